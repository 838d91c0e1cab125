package record

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
	"github.com/ertmp/rtmp/message"
)

// Synthetic tag bodies (FLV 10.1 §E.4.2.1, §E.4.3.1). The bytes after a
// frame's header are its sequence number.
func avcSeq() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f} }
func avcFrame(key bool, n uint32) []byte {
	b := []byte{0x27, 1, 0, 0, 0}
	if key {
		b[0] = 0x17
	}
	return binary.BigEndian.AppendUint32(b, n)
}
func aacSeq() []byte { return []byte{0xaf, 0, 0x12, 0x10} }
func aacFrame(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0xaf, 1}, n)
}

func exVideo(t testing.TB, v flv.VideoTag) []byte {
	t.Helper()
	b, err := v.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func logger(t testing.TB) *slog.Logger {
	return livetest.Logger(t)
}

func newHub(t *testing.T, hooks live.Hooks) *live.Hub {
	t.Helper()
	before := runtime.NumGoroutine()
	h := live.NewHub(live.Config{Logger: logger(t), Hooks: hooks, RepublishGrace: -1})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		// Every recorder ended with the hub: no goroutine is left.
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			t.Errorf("%d goroutines left", n-before)
		}
	})
	return h
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func publish(t *testing.T, h *live.Hub, k live.Key) *live.Publication {
	t.Helper()
	p, err := h.Publish(ctx5(t), k, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t testing.TB, p *live.Publication, typ message.Type, ts uint32, body []byte) {
	t.Helper()
	if err := p.Write(rtmp.Packet{Type: typ, Timestamp: ts, Payload: body}); err != nil {
		t.Fatal(err)
	}
}

func setMeta(t testing.TB, p *live.Publication, ts uint32, props ...amf0.Property) {
	t.Helper()
	b, err := message.NewSetDataFrame(amf0.NewECMAArray(props...)).AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, message.TypeDataAMF0, ts, b)
}

// files collects OnFile reports.
type files struct {
	mu  sync.Mutex
	all []File
	c   chan File
}

func newFiles() *files { return &files{c: make(chan File, 64)} }

func (f *files) add(x File) {
	f.mu.Lock()
	f.all = append(f.all, x)
	f.mu.Unlock()
	f.c <- x
}

func (f *files) wait(t *testing.T) File {
	t.Helper()
	select {
	case x := <-f.c:
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("no file finished")
	}
	return File{}
}

// readFLV reads a file's header and tags.
func readFLV(t *testing.T, path string) (flv.Header, []flv.Tag) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseFLV(t, b)
}

func parseFLV(t *testing.T, b []byte) (flv.Header, []flv.Tag) {
	t.Helper()
	r := flv.NewReader(bytes.NewReader(b))
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	var tags []flv.Tag
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return h, tags
		}
		if err != nil {
			t.Fatalf("after %d tags: %v", len(tags), err)
		}
		tag.Data = bytes.Clone(tag.Data)
		tags = append(tags, tag)
	}
}

// metadata returns the properties of an onMetaData tag.
func metadata(t *testing.T, tag flv.Tag) amf0.ECMAArray {
	t.Helper()
	d, err := flv.ParseScript(tag.Data)
	if err != nil || d.Name != flv.OnMetaData || len(d.Args) == 0 {
		t.Fatalf("not onMetaData: %v %+v", err, d)
	}
	a, ok := d.Args[0].(amf0.ECMAArray)
	if !ok {
		t.Fatalf("onMetaData holds a %T", d.Args[0])
	}
	return a
}

// memFile is an in-memory file that fails with ENOSPC past limit bytes
// (0: no limit), and can be made to block its writes.
type memFile struct {
	mu     sync.Mutex
	b      []byte
	pos    int64
	limit  int
	closed bool
	gate   chan struct{} // when set, each Write waits for a receive
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if f.limit > 0 && int(f.pos)+len(p) > f.limit {
		p = p[:max(f.limit-int(f.pos), 0)]
		err = &os.PathError{Op: "write", Path: "mem", Err: syscall.ENOSPC}
	}
	if end := int(f.pos) + len(p); end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	copy(f.b[f.pos:], p)
	f.pos += int64(len(p))
	return len(p), err
}

func (f *memFile) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += int64(len(f.b))
	}
	if off < 0 {
		return 0, errors.New("memFile: seek before the start")
	}
	f.pos = off
	return off, nil
}

func (f *memFile) Truncate(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.b = f.b[:n]
	return nil
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *memFile) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.b)
}

// memFS makes memFiles.
type memFS struct {
	mu    sync.Mutex
	files map[string]*memFile
	mk    func() *memFile
}

func (m *memFS) create(path string) (osFile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]*memFile{}
	}
	if _, ok := m.files[path]; ok {
		return nil, os.ErrExist
	}
	f := &memFile{}
	if m.mk != nil {
		f = m.mk()
	}
	m.files[path] = f
	return f, nil
}

func (m *memFS) get(path string) *memFile {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[path]
}

func base(p string) string { return filepath.Base(p) }
