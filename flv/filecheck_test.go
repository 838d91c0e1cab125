package flv

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
)

// §E.2: version 1 is the only one; a strict Reader stops, a lenient one
// reports it and reads on.
func TestReaderVersion(t *testing.T) {
	in := hx("464c56 02 05 00000009 00000000 09 000001 000000 00 000000 17 0000000c")
	if _, err := NewReader(bytes.NewReader(in)).ReadTag(); !errors.Is(err, ErrVersion) {
		t.Fatalf("strict: err = %v, want ErrVersion", err)
	}
	r := NewReader(bytes.NewReader(in))
	r.Lenient = true
	var warned []error
	r.Warn = func(err error) { warned = append(warned, err) }
	tags, err := r.ReadAll()
	if err != nil || len(tags) != 1 {
		t.Fatalf("lenient: %d tags, %v", len(tags), err)
	}
	if h, _ := r.ReadHeader(); h.Version != 2 {
		t.Fatalf("Version = %d, want 2 kept", h.Version)
	}
	if len(warned) != 1 || !errors.Is(warned[0], ErrVersion) {
		t.Fatalf("warnings %v, want one ErrVersion", warned)
	}
}

// §E.4.1: StreamID "Always 0".
func TestReaderStreamID(t *testing.T) {
	in := hx("464c56 01 05 00000009 00000000" +
		"09 000001 000000 00 000000 17 0000000c" +
		"09 000001 000028 00 000001 27 0000000c" + // StreamID 1
		"08 000001 000028 00 000000 af 0000000c")
	r := NewReader(bytes.NewReader(in))
	if _, err := r.ReadTag(); err != nil {
		t.Fatal(err)
	}
	_, err := r.ReadTag()
	if !errors.Is(err, ErrStreamID) {
		t.Fatalf("strict: err = %v, want ErrStreamID", err)
	}

	r = NewReader(bytes.NewReader(in))
	r.Lenient = true
	var warned []error
	r.Warn = func(err error) { warned = append(warned, err) }
	tags, err := r.ReadAll()
	if err != nil || len(tags) != 3 || tags[1].StreamID != 1 {
		t.Fatalf("lenient: %d tags, %v", len(tags), err)
	}
	if len(warned) != 1 || !errors.Is(warned[0], ErrStreamID) || r.Mismatches != 0 {
		t.Fatalf("warnings %v, mismatches %d", warned, r.Mismatches)
	}
}

// Lenient mode reports PreviousTagSize mismatches to Warn too.
func TestReaderWarnPrevTagSize(t *testing.T) {
	in := hx("464c56 01 05 00000009 00000007 09 000001 000000 00 000000 17 00000099")
	r := NewReader(bytes.NewReader(in))
	r.Lenient = true
	n := 0
	r.Warn = func(err error) {
		if !errors.Is(err, ErrPrevTagSize) {
			t.Errorf("warning %v", err)
		}
		n++
	}
	if _, err := r.ReadAll(); err != nil || n != 2 || r.Mismatches != 2 {
		t.Fatalf("err %v, %d warnings, %d mismatches", err, n, r.Mismatches)
	}
}

// ReadAll gives the tags ReadTag gives, each with a copy of its body that
// no later read overwrites.
func TestReadAll(t *testing.T) {
	for _, name := range []string{"../testdata/ffmpeg/h264_aac.flv", "../testdata/ffmpeg/multitrack.flv"} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tags, err := NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			want := readAll(t, NewReader(bytes.NewReader(src)))
			if len(tags) != len(want) || len(tags) < 50 {
				t.Fatalf("%d tags, want %d", len(tags), len(want))
			}
			for i := range tags {
				if !bytes.Equal(tags[i].Data, want[i]) || cap(tags[i].Data) != len(tags[i].Data) {
					t.Fatalf("tag %d differs (or its Data has spare capacity)", i)
				}
			}
		})
	}
}

// A file cut short gives the tags before the cut and the error.
func TestReadAllTruncated(t *testing.T) {
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	tags, err := NewReader(bytes.NewReader(src[:len(src)/2])).ReadAll()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(tags) < 10 {
		t.Fatalf("%d tags, %v", len(tags), err)
	}
}

// copyMedia writes the audio and video tags of a sample file to w and
// returns how many.
func copyMedia(t *testing.T, w *Writer, name string) int {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := NewReader(bytes.NewReader(src)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tag := range tags {
		if tag.Type != TagAudio && tag.Type != TagVideo {
			continue
		}
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// readMetadata returns the onMetaData of the first tag of a file.
func readMetadata(t *testing.T, b []byte) *Metadata {
	t.Helper()
	tag, err := NewReader(bytes.NewReader(b)).ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseScript(tag.Data)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := sd.Metadata()
	if !ok {
		t.Fatalf("first tag is %q, not onMetaData", sd.Name)
	}
	return m
}

// On a file on disk, Close writes the final duration and file size into
// the metadata (FFmpeg's flvenc does the same at its trailer).
func TestWriterPatchesMetadata(t *testing.T) {
	name := filepath.Join(t.TempDir(), "out.flv")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, NewHeader(true, true))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMetadata(0, &Metadata{Width: 192, Height: 108, Encoder: "ertmp"}); err != nil {
		t.Fatal(err)
	}
	n := copyMedia(t, w, "../testdata/ffmpeg/h264_aac.flv")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WriteTag(Tag{Type: TagAudio}); err == nil {
		t.Fatal("WriteTag after Close succeeded")
	}
	// Writing goes on at the end of the file after the patch.
	if _, err := f.Write([]byte("END")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[len(b)-3:]) != "END" {
		t.Fatal("Close did not seek back to the end")
	}
	b = b[:len(b)-3]
	if w.Tags() != int64(n+1) || w.Bytes() != int64(len(b)) {
		t.Fatalf("Tags %d, Bytes %d; want %d, %d", w.Tags(), w.Bytes(), n+1, len(b))
	}
	m := readMetadata(t, b)
	if m.FileSize != float64(len(b)) {
		t.Errorf("filesize = %v, want %d", m.FileSize, len(b))
	}
	// FFmpeg wrote the source's duration from its packets' durations; ours,
	// from the timestamps, comes within a frame of it.
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	want := readMetadata(t, src).Duration
	d := w.Duration()
	if m.Duration != d.Seconds() || math.Abs(m.Duration-want) > 0.045 {
		t.Errorf("duration = %v, Duration() = %v; want the same, within a frame of FFmpeg's %v", m.Duration, d, want)
	}
	if m.Width != 192 || m.Encoder != "ertmp" {
		t.Errorf("metadata lost its properties: %+v", m)
	}
	tags, err := NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(tags) != n+1 {
		t.Fatalf("read back %d tags, %v", len(tags), err)
	}
}

// writerOnly hides every method but Write.
type writerOnly struct{ io.Writer }

// A destination that cannot seek gets the same file with the placeholders
// left: the values given, or 0.
func TestWriterNotSeekable(t *testing.T) {
	write := func(dst io.Writer) *Writer {
		w, err := NewWriter(dst, NewHeader(true, true))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMetadata(0, &Metadata{Duration: 7}); err != nil {
			t.Fatal(err)
		}
		copyMedia(t, w, "../testdata/ffmpeg/h264_aac.flv")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	var plain bytes.Buffer
	w := write(writerOnly{&plain})
	m := readMetadata(t, plain.Bytes())
	if m.Duration != 7 || m.FileSize != 0 {
		t.Fatalf("duration %v, filesize %v; want the placeholders 7 and 0", m.Duration, m.FileSize)
	}
	if w.Bytes() != int64(plain.Len()) {
		t.Fatalf("Bytes %d, wrote %d", w.Bytes(), plain.Len())
	}

	// The same on disk differs only in the two patched numbers.
	name := filepath.Join(t.TempDir(), "seekable.flv")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	write(f)
	f.Close()
	disk, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(disk) != plain.Len() {
		t.Fatalf("%d bytes on disk, %d through a plain writer", len(disk), plain.Len())
	}
	diff := 0
	for i := range disk {
		if disk[i] != plain.Bytes()[i] {
			diff++
		}
	}
	if diff == 0 || diff > 16 {
		t.Fatalf("%d bytes differ, want 1 to 16 (two float64 values)", diff)
	}

	// A pipe is an *os.File, an io.WriteSeeker whose Seek fails.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- b
	}()
	write(pw)
	pw.Close()
	if b := <-got; !bytes.Equal(b, plain.Bytes()) {
		t.Fatalf("through a pipe: %d bytes, differ from the plain writer's", len(b))
	}
	pr.Close()
}

// A file that does not start at offset 0 of its destination is patched at
// the right place.
func TestWriterPatchesAfterPrefix(t *testing.T) {
	name := filepath.Join(t.TempDir(), "prefixed")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("some other data first"))
	w, _ := NewWriter(f, NewHeader(true, true))
	w.WriteMetadata(0, nil)
	copyMedia(t, w, "../testdata/ffmpeg/h264_aac.flv")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(name)
	b = b[len("some other data first"):]
	m := readMetadata(t, b)
	if m.FileSize != float64(len(b)) || m.Duration != w.Duration().Seconds() || m.Duration == 0 {
		t.Fatalf("duration %v, filesize %v (file %d bytes)", m.Duration, m.FileSize, len(b))
	}
}

// Duration spans the first to the end of the last audio or video tag, a
// tag lasting the step since the previous one of its type.
func TestWriterDuration(t *testing.T) {
	w, _ := NewWriter(io.Discard, NewHeader(true, true))
	if w.Duration() != 0 {
		t.Fatal("duration before any tag")
	}
	w.WriteTag(Tag{Type: TagScript, Timestamp: 99999})
	for i := 0; i < 25; i++ { // video at 25 fps from 1000 ms: 1000 .. 1960
		w.WriteTag(Tag{Type: TagVideo, Timestamp: uint32(1000 + 40*i)})
	}
	for i := 0; i < 47; i++ { // AAC at 48 kHz: 21.333 ms frames, 1000 .. 1981
		w.WriteTag(Tag{Type: TagAudio, Timestamp: uint32(1000 + i*1024/48)})
	}
	if d := w.Duration(); d != 1002*time.Millisecond {
		// Audio ends last: 1981 + 21 = 2002 (its last step, 1024/48 ms in
		// whole milliseconds, is 21).
		t.Fatalf("Duration = %v, want 1.002s", d)
	}
	if w.Tags() != 1+25+47 {
		t.Fatalf("Tags = %d", w.Tags())
	}
}

func TestWriteMetadataKeepsTypes(t *testing.T) {
	var out bytes.Buffer
	w, _ := NewWriter(&out, NewHeader(false, true))
	m := &Metadata{Width: 640, VideoCodec: MetaCodec{FourCC: FourCCHEVC}, Stereo: true}
	m.Unknown = append(m.Unknown, amf0.Property{Key: "duration", Value: "not a number"})
	if err := w.WriteMetadata(0, m); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got := readMetadata(t, out.Bytes())
	if got.Width != 640 || got.VideoCodec.FourCC != FourCCHEVC || !got.Stereo || got.Duration != 0 || math.IsNaN(got.FileSize) {
		t.Fatalf("read back %+v", got)
	}
}
