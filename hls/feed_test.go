package hls

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
)

// feeder publishes an FLV file's tags over RTMP with a library client, in
// real time, looping it with timestamps that keep counting; it records when
// it wrote each video tag (by timestamp), for latency figures. pad, when
// set, pads video frames to that many bytes (the muxer does not decode
// frames: a 3 Mbps stream from a small file).
type feeder struct {
	pub    *rtmp.Publisher
	stop   chan struct{}
	done   chan error
	paused chan bool

	mu      sync.Mutex
	written map[int64]time.Time // video timestamp (ms) -> when written
}

func readTags(t *testing.T, file string) []flv.Tag {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg", file))
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(b))
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	var tags []flv.Tag
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return tags
		}
		if err != nil {
			t.Fatal(err)
		}
		tag.Data = bytes.Clone(tag.Data)
		tags = append(tags, tag)
	}
}

func (e *env) feed(t *testing.T, name, file string, pad int) *feeder {
	t.Helper()
	return e.feedTags(t, name, readTags(t, file), pad)
}

// withMetadata replaces a file's onMetaData with md's.
func withMetadata(t *testing.T, tags []flv.Tag, md *flv.Metadata) []flv.Tag {
	t.Helper()
	b, err := md.ScriptData().Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := []flv.Tag{{Type: flv.TagScript, Data: b}}
	for _, tag := range tags {
		if tag.Type != flv.TagScript {
			out = append(out, tag)
		}
	}
	return out
}

func (e *env) feedTags(t *testing.T, name string, tags []flv.Tag, pad int) *feeder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, "rtmp://"+e.rtmp+"/live/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &feeder{pub: pub, stop: make(chan struct{}), done: make(chan error, 1), paused: make(chan bool, 1), written: map[int64]time.Time{}}
	last := tags[len(tags)-1].Timestamp + 40
	go func() {
		start := time.Now()
		var offset time.Duration // of the pauses
		for loop := 0; ; loop++ {
			base := int64(loop) * int64(last)
			for _, tag := range tags {
				if loop > 0 && (tag.Type == flv.TagScript || isConfig(tag)) {
					continue
				}
				ts := base + int64(tag.Timestamp)
				wait := time.Until(start.Add(offset + time.Duration(ts)*time.Millisecond))
				tm := time.NewTimer(max(wait, 0))
				select {
				case <-f.stop:
					tm.Stop()
					f.done <- nil
					return
				case p := <-f.paused:
					tm.Stop()
					t0 := time.Now()
					for p {
						select {
						case p = <-f.paused:
						case <-f.stop:
							f.done <- nil
							return
						}
					}
					offset += time.Since(t0)
					tm = time.NewTimer(max(time.Until(start.Add(offset+time.Duration(ts)*time.Millisecond)), 0))
					<-tm.C
				case <-tm.C:
				}
				tag.Timestamp = uint32(ts)
				if pad > 0 && tag.Type == flv.TagVideo && !isConfig(tag) && len(tag.Data) < pad {
					tag.Data = append(bytes.Clone(tag.Data), make([]byte, pad-len(tag.Data))...)
				}
				if err := pub.WriteTag(tag); err != nil {
					f.done <- err
					return
				}
				if tag.Type == flv.TagVideo {
					f.mu.Lock()
					f.written[ts] = time.Now()
					f.mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(func() { f.close() })
	return f
}

func isConfig(tag flv.Tag) bool {
	switch tag.Type {
	case flv.TagVideo:
		var v flv.VideoTag
		return v.Unmarshal(tag.Data) == nil && v.IsSequenceHeader()
	case flv.TagAudio:
		var a flv.AudioTag
		return a.Unmarshal(tag.Data) == nil && a.IsSequenceHeader()
	}
	return false
}

// pause stops sending (the stream stays published) until resume.
func (f *feeder) pause()  { f.paused <- true }
func (f *feeder) resume() { f.paused <- false }

// writtenAt returns when the video tag of timestamp ts was written.
func (f *feeder) writtenAt(ts int64) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.written[ts]
	return w, ok
}

// close stops the feeder and unpublishes.
func (f *feeder) close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
		<-f.done
		f.pub.Close()
	}
}
