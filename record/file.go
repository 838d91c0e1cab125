package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ertmp/rtmp/flv"
)

// flushBytes is how much a file buffers before a write, whatever the
// flush interval.
const flushBytes = 256 << 10

// maxBufKeep is the buffer capacity kept after a flush; a larger one (a
// huge tag went through) is let go.
const maxBufKeep = 1 << 20

// osFile is what a file is written with: *os.File, or a test's fake.
type osFile interface {
	Write([]byte) (int, error)
	WriteAt([]byte, int64) (int, error)
	Truncate(int64) error
	Close() error
}

// createFile makes a new file, never replacing one.
func createFile(path string) (osFile, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// flvFile is one FLV file being written. It is owned by its recorder's
// goroutine.
//
// Crash safety: tags are appended whole to buf, and buf is written with
// one Write, so the file on disk always ends at a tag boundary unless a
// write fails part way (then it is truncated back). A file cut by a
// crash or SIGKILL loses at most what was buffered, and reads to its end
// (its onMetaData still has the zero duration and size it began with).
type flvFile struct {
	f      osFile
	path   string
	opened time.Time
	buf    []byte
	// size is the bytes on disk: always at a tag boundary.
	size int64
	// base is the stream time of the file's 0; last the highest file
	// time written (ms).
	base, last uint32
	flags      uint8 // FLV header flags, patched on close
	// durAt and sizeAt are the file offsets of onMetaData's duration and
	// filesize numbers (0: not patchable).
	durAt, sizeAt int64
	tags          uint64
}

// openFile creates the file at path (or path-1.ext, path-2.ext, ... when
// taken) with the FLV header and the onMetaData body meta, whose duration
// and filesize numbers are at metaDur and metaSize within it.
func openFile(create func(string) (osFile, error), path string, flags uint8, meta []byte, metaDur, metaSize int) (*flvFile, error) {
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
	ff := &flvFile{f: f, path: path, opened: time.Now(), flags: flags, buf: make([]byte, 0, 64<<10)}
	// FLV 10.1 §E.2: the header and PreviousTagSize0.
	ff.buf = append(ff.buf, 'F', 'L', 'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0)
	if metaDur > 0 {
		at := int64(len(ff.buf) + flv.TagHeaderSize)
		ff.durAt, ff.sizeAt = at+int64(metaDur), at+int64(metaSize)
	}
	ff.appendTag(flv.TagScript, 0, meta)
	return ff, nil
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

// appendTag buffers one whole tag at file time ts: FLV 10.1 §E.4.1 tag
// header, body, PreviousTagSize.
func (f *flvFile) appendTag(t flv.TagType, ts uint32, body []byte) {
	n := len(body)
	f.buf = append(f.buf, byte(t), byte(n>>16), byte(n>>8), byte(n),
		byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24), 0, 0, 0)
	f.buf = append(f.buf, body...)
	f.buf = binary.BigEndian.AppendUint32(f.buf, uint32(flv.TagHeaderSize+n))
	f.tags++
	if t != flv.TagScript && ts > f.last {
		f.last = ts
	}
}

// pending is the size the file will have once flushed.
func (f *flvFile) pending() int64 { return f.size + int64(len(f.buf)) }

// flush writes the buffered tags with one Write. On an error the file is
// cut back to its last whole tag.
func (f *flvFile) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	n, err := f.f.Write(f.buf)
	if err == nil && n < len(f.buf) {
		err = errShortWrite
	}
	if err != nil {
		if n > 0 {
			f.f.Truncate(f.size)
		}
		f.buf = f.buf[:0]
		return err
	}
	f.size += int64(n)
	if cap(f.buf) > maxBufKeep {
		f.buf = make([]byte, 0, 64<<10)
	} else {
		f.buf = f.buf[:0]
	}
	return nil
}

var errShortWrite = errors.New("record: short write")

// duration is the media time the file holds.
func (f *flvFile) duration() time.Duration { return time.Duration(f.last) * time.Millisecond }

// close flushes (unless the recording failed: failed), patches
// onMetaData's duration and filesize and the header's flags in place, and
// closes. It returns the first error.
func (f *flvFile) close(failed bool) error {
	var err error
	if !failed {
		err = f.flush()
	}
	f.buf = nil
	if f.durAt > 0 && f.sizeAt+8 <= f.size {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(f.last)/1000))
		if _, e := f.f.WriteAt(b[:], f.durAt); err == nil && !failed {
			err = e
		}
		binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(f.size)))
		if _, e := f.f.WriteAt(b[:], f.sizeAt); err == nil && !failed {
			err = e
		}
	}
	if f.size > 4 {
		if _, e := f.f.WriteAt([]byte{f.flags}, 4); err == nil && !failed {
			err = e
		}
	}
	if e := f.f.Close(); err == nil {
		err = e
	}
	return err
}
