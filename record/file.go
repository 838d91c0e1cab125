package record

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
)

// flushBytes is how much a file buffers before a write, whatever the
// flush interval.
const flushBytes = 256 << 10

// osFile is what a file is written with: *os.File, or a test's fake.
// flv.Writer seeks to patch the metadata and truncates after a write
// that failed part way.
type osFile interface {
	io.WriteSeeker
	Truncate(int64) error
	Close() error
}

// createFile makes a new file, never replacing one.
func createFile(path string) (osFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// flvFile is one FLV file being written, through an flv.Writer. It is
// owned by its recorder's goroutine.
//
// Crash safety: the Writer writes whole tags only, so the file on disk
// always ends at a tag boundary (a write that fails part way is cut
// back). A file cut by a crash or SIGKILL loses at most what was
// buffered, and reads to its end (its onMetaData still has the zero
// duration and size it began with).
type flvFile struct {
	f      osFile
	w      *flv.Writer
	path   string
	opened time.Time
	// base is the stream time of the file's 0 (ms).
	base uint32
}

// openFile creates the file at path (or path-1.ext, path-2.ext, ... when
// taken) with the FLV header flags and onMetaData: the publisher's
// properties meta with duration and filesize placeholders, which the
// Writer patches when the file closes.
func openFile(create func(string) (osFile, error), path string, flags uint8, meta amf0.Object) (*flvFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	var f osFile
	var err error
	for i := 0; i < 100; i++ {
		p := path
		if i > 0 {
			p = stem + "-" + strconv.Itoa(i) + ext
		}
		f, err = create(p)
		if err == nil {
			path = p
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("record: no free name like %s: %w", path, err)
	}
	w, err := flv.NewWriterSize(f, flv.Header{Version: 1, Flags: flags}, flushBytes)
	if err != nil {
		f.Close()
		return nil, err
	}
	m := flv.ParseMetadata(meta)
	m.Duration, m.FileSize = 0, 0
	if w.WriteMetadata(0, m) != nil {
		// A property that does not encode: the placeholders alone.
		w.WriteMetadata(0, nil)
	}
	return &flvFile{f: f, w: w, path: path, opened: time.Now()}, nil
}

// rel maps a stream timestamp to file time: from the file's base, never
// below 0 (audio a little before the key frame a file starts at).
func (f *flvFile) rel(ts uint32) uint32 {
	d := int32(ts - f.base)
	if d < 0 {
		return 0
	}
	return uint32(d)
}

// writeTag writes one tag at file time ts; an error is the file's write
// error (the Writer flushes when its buffer is full).
func (f *flvFile) writeTag(t flv.TagType, ts uint32, body []byte) error {
	return f.w.WriteTag(flv.Tag{Type: t, Timestamp: ts, Data: body})
}

// pending is the size the file will have once flushed.
func (f *flvFile) pending() int64 { return f.w.Bytes() }

// flush writes the buffered tags.
func (f *flvFile) flush() error { return f.w.Flush() }

// size is the bytes on disk: whole tags.
func (f *flvFile) size() int64 { return f.w.Flushed() }

// duration is the media time the file holds.
func (f *flvFile) duration() time.Duration { return f.w.Duration() }

// close flushes, patches onMetaData's duration and filesize and the
// header's flags in place (as of what the file holds, after a write
// error), and closes. It returns the first error.
func (f *flvFile) close() error {
	err := f.w.Close()
	if e := f.f.Close(); err == nil {
		err = e
	}
	return err
}
