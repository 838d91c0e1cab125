package flv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// fullDisk is a file that takes limit bytes, then writes what fits and
// fails with ENOSPC, as a full disk does.
type fullDisk struct {
	*os.File
	limit int64
}

func (f *fullDisk) Write(p []byte) (int, error) {
	at, err := f.File.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if at+int64(len(p)) <= f.limit {
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:max(f.limit-at, 0)])
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// A write that fails part way: the file is cut back to its last whole
// tag, the error sticks, and Close patches the metadata and the header
// flags with what the file holds, then reports the error.
func TestWriterFullDisk(t *testing.T) {
	name := filepath.Join(t.TempDir(), "full.flv")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const limit = 30 << 10
	w, err := NewWriterSize(&fullDisk{f, limit}, NewHeader(false, false), 8<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMetadata(0, &Metadata{Width: 320}); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := NewReader(bytes.NewReader(src)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	written := 0
	for _, tag := range tags {
		if tag.Type != TagAudio && tag.Type != TagVideo {
			continue
		}
		if werr = w.WriteTag(tag); werr != nil {
			break
		}
		written++
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("WriteTag: %v, want ENOSPC (the source has %d bytes)", werr, len(src))
	}
	if err := w.WriteTag(Tag{Type: TagAudio}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteTag after the error: %v", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v", err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != w.Flushed() || len(b) > limit || w.Flushed() >= w.Bytes() {
		t.Fatalf("%d bytes on disk, Flushed %d, Bytes %d, limit %d", len(b), w.Flushed(), w.Bytes(), limit)
	}
	got, err := NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("the cut file does not read to its end: %v", err)
	}
	m := readMetadata(t, b)
	last := got[len(got)-1].Timestamp
	if m.FileSize != float64(len(b)) || m.Duration*1000 < float64(last) || m.Duration*1000 > float64(last)+50 || m.Width != 320 {
		t.Fatalf("metadata %+v for %d bytes, last tag at %d ms", m, len(b), last)
	}
	h, _ := NewReader(bytes.NewReader(b)).ReadHeader()
	if !h.HasAudio() || !h.HasVideo() {
		t.Fatalf("header flags %#x, want audio and video", h.Flags)
	}
	t.Logf("disk full at %d bytes: %d whole tags (%d bytes) kept of %d written, duration %.3f s", limit, len(got), len(b), written+1, m.Duration)
}

// countWrites records the size of each Write.
type countWrites struct {
	bytes.Buffer
	sizes []int
}

func (c *countWrites) Write(p []byte) (int, error) {
	c.sizes = append(c.sizes, len(p))
	return c.Buffer.Write(p)
}

// Each Write ends at a tag boundary, so a file cut between two Writes (a
// crash) reads to its end; a tag larger than the buffer goes alone.
func TestWriterWholeTags(t *testing.T) {
	var dst countWrites
	w, _ := NewWriterSize(&dst, NewHeader(true, true), 4<<10)
	for i := range 200 {
		w.WriteTag(Tag{Type: TagVideo, Timestamp: uint32(i * 40), Data: make([]byte, 100+i*7)})
	}
	w.WriteTag(Tag{Type: TagVideo, Timestamp: 8000, Data: make([]byte, 64<<10)})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(dst.sizes) < 10 {
		t.Fatalf("%d writes", len(dst.sizes))
	}
	at := 0
	for i, n := range dst.sizes {
		at += n
		cut := dst.Bytes()[:at]
		tags, err := NewReader(bytes.NewReader(cut)).ReadAll()
		if err != nil || (i < len(dst.sizes)-1 && len(tags) == 0) {
			t.Fatalf("cut after write %d (%d bytes): %d tags, %v", i, at, len(tags), err)
		}
	}
	if w.Flushed() != int64(dst.Len()) || w.Bytes() != w.Flushed() {
		t.Fatalf("Flushed %d, Bytes %d, wrote %d", w.Flushed(), w.Bytes(), dst.Len())
	}
}
