package flv_test

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ertmp/rtmp/flv"
)

// Count the tracks of each video packet type in an FLV file.
func Example() {
	src, err := os.ReadFile("../testdata/ffmpeg/multitrack.flv")
	if err != nil {
		panic(err)
	}
	r := flv.NewReader(bytes.NewReader(src))
	frames := map[string]int{}
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		var v flv.VideoTag
		if tag.Type != flv.TagVideo || v.Unmarshal(tag.Data) != nil || !v.IsKeyFrame() {
			continue
		}
		it := v.Tracks()
		for it.Next() {
			tr := it.Track()
			frames[fmt.Sprintf("track %d %s", tr.ID, tr.FourCC)]++
		}
	}
	fmt.Println(frames["track 0 avc1"], "avc1 and", frames["track 1 hvc1"], "hvc1 key frames")
	// Output: 2 avc1 and 2 hvc1 key frames
}

// Build a multitrack HEVC + AV1 coded-frames tag from two tracks.
func ExampleMultitrackVideo() {
	tag, err := flv.MultitrackVideo(flv.FrameKey, flv.VideoCodedFrames, nil,
		flv.Track{ID: 0, FourCC: flv.FourCCHEVC, CompositionTime: 40, Data: []byte{0xAA}},
		flv.Track{ID: 1, FourCC: flv.FourCCAV1, Data: []byte{0xBB}})
	if err != nil {
		panic(err)
	}
	b, _ := tag.Append(nil)
	fmt.Printf("%v % x\n", tag.MultitrackType, b)
	// Output: many-tracks-many-codecs 96 21 68 76 63 31 00 00 00 04 00 00 28 aa 61 76 30 31 01 00 00 01 bb
}
