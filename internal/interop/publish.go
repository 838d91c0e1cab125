package interop

import (
	"bytes"
	"io"
	"os"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
)

// PublishFLV publishes the tags of an FLV file on p at their real-time
// pace (like ffmpeg -re) and returns at the end of the file.
func PublishFLV(p *rtmp.Publisher, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := flv.NewReader(bytes.NewReader(src))
	start := time.Now()
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if d := time.Duration(tag.Timestamp)*time.Millisecond - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		if err := p.WriteTag(tag); err != nil {
			return err
		}
	}
}
