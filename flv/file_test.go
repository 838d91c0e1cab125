package flv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// sampleFiles are the E-RTMP sample files and the small files made by FFmpeg
// 5.1, 7.1 and 9 (see testdata/ffmpeg/README).
func sampleFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../testdata/eflv", "../testdata/ffmpeg"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.flv"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 15 {
		t.Fatalf("found only %d sample files", len(files))
	}
	return files
}

// FLV 10.1 §E.2 (header, PreviousTagSize0) and §E.4.1 (a tag whose timestamp
// needs TimestampExtended).
var fileGolden = hx("464c56 01 05 00000009 00000000" +
	"08 000002 345678 12 000000 af01 0000000d" +
	"29 000001 000000 00 000000 17 0000000c")

func TestFileGolden(t *testing.T) {
	r := NewReader(bytes.NewReader(fileGolden))
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 1 || !h.HasAudio() || !h.HasVideo() || h.Extra != nil {
		t.Fatalf("header = %+v", h)
	}
	tag, err := r.ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	if tag.Type != TagAudio || tag.Timestamp != 0x12345678 || !bytes.Equal(tag.Data, hx("af01")) || tag.Filter {
		t.Fatalf("tag 1 = %+v", tag)
	}
	tag, err = r.ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	if tag.Type != TagVideo || !tag.Filter || tag.Timestamp != 0 || !bytes.Equal(tag.Data, hx("17")) {
		t.Fatalf("tag 2 = %+v", tag)
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("after the last tag: err = %v, want io.EOF", err)
	}

	var out bytes.Buffer
	w, err := NewWriter(&out, h)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteTag(Tag{Type: TagAudio, Timestamp: 0x12345678, Data: hx("af01")})
	w.WriteTag(Tag{Type: TagVideo, Filter: true, Data: hx("17")})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), fileGolden) {
		t.Fatalf("written = % x\nwant      % x", out.Bytes(), fileGolden)
	}
}

// Every tag of every sample file parses, and the tag bodies and the whole
// file re-encode to the same bytes.
func TestSampleFilesRoundTrip(t *testing.T) {
	for _, f := range sampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r := NewReader(bytes.NewReader(src))
			h, err := r.ReadHeader()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w, err := NewWriter(&out, h)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[TagType]int{}
			for {
				tag, err := r.ReadTag()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("tag %d: %v", counts[TagAudio]+counts[TagVideo]+counts[TagScript], err)
				}
				counts[tag.Type]++
				checkTagRoundTrip(t, tag)
				if err := w.WriteTag(tag); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), src) {
				t.Fatalf("rewritten file differs from the source (%d vs %d bytes)", out.Len(), len(src))
			}
			if counts[TagAudio]+counts[TagVideo] == 0 {
				t.Fatalf("no media tags: %v", counts)
			}
		})
	}
}

func checkTagRoundTrip(t *testing.T, tag Tag) {
	t.Helper()
	var enc []byte
	var err error
	switch tag.Type {
	case TagAudio:
		var a AudioTag
		if err = a.Unmarshal(tag.Data); err != nil {
			t.Fatalf("audio at %d: %v", tag.Timestamp, err)
		}
		walkTracks(t, a.Tracks())
		enc, err = a.Append(nil)
	case TagVideo:
		var v VideoTag
		if err = v.Unmarshal(tag.Data); err != nil {
			t.Fatalf("video at %d: %v", tag.Timestamp, err)
		}
		walkTracks(t, v.Tracks())
		if v.Multitrack {
			parts, err := SplitVideo(&v)
			if err != nil {
				t.Fatal(err)
			}
			joined, err := JoinVideo(parts)
			if err != nil {
				t.Fatal(err)
			}
			if j, _ := joined.Append(nil); v.MultitrackType != OneTrack || !bytes.Equal(j, tag.Data) {
				// FFmpeg writes OneTrack tags; a join of their split is the same tag.
				if v.MultitrackType == OneTrack {
					t.Fatalf("join(split) of a OneTrack tag differs")
				}
			}
		}
		enc, err = v.Append(nil)
	case TagScript:
		var sd ScriptData
		if sd, err = ParseScript(tag.Data); err != nil {
			t.Fatalf("script at %d: %v", tag.Timestamp, err)
		}
		enc, err = sd.Append(nil)
	default:
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, tag.Data) {
		t.Fatalf("%v tag at %d re-encodes to % x, want % x", tag.Type, tag.Timestamp, head(enc), head(tag.Data))
	}
}

func walkTracks(t *testing.T, it TrackIter) {
	t.Helper()
	for it.Next() {
	}
	if err := it.Err(); err != nil {
		t.Fatalf("tracks: %v", err)
	}
}

func head(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}

// Reading one byte at a time gives the same tags.
func TestReaderOneByte(t *testing.T) {
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	a := readAll(t, NewReader(bytes.NewReader(src)))
	b := readAll(t, NewReader(iotest.OneByteReader(bytes.NewReader(src))))
	if len(a) != len(b) || len(a) < 100 {
		t.Fatalf("%d tags vs %d one byte at a time", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("tag %d differs", i)
		}
	}
}

func readAll(t *testing.T, r *Reader) [][]byte {
	var out [][]byte
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(tag.Data))
	}
}

func TestReaderBadInput(t *testing.T) {
	good := fileGolden
	tests := []struct {
		name    string
		in      []byte
		setup   func(*Reader)
		wantErr error
	}{
		{"empty file", nil, nil, io.ErrUnexpectedEOF},
		{"bad signature", append([]byte("FLX"), good[3:]...), nil, ErrSignature},
		{"cut in header", good[:7], nil, io.ErrUnexpectedEOF},
		{"cut before PreviousTagSize0", good[:11], nil, io.ErrUnexpectedEOF},
		{"cut in tag header", good[:13+5], nil, io.ErrUnexpectedEOF},
		{"cut in tag data", good[:13+11+1], nil, io.ErrUnexpectedEOF},
		{"cut in PreviousTagSize", good[:13+11+2+2], nil, io.ErrUnexpectedEOF},
		{"lying DataSize of 16 MiB - 1", hx("464c56 01 05 00000009 00000000 09 ffffff 000000 00 000000 17 01"), nil, io.ErrUnexpectedEOF},
		{"tag over MaxTagSize", hx("464c56 01 05 00000009 00000000 09 000400 000000 00 000000"), func(r *Reader) { r.MaxTagSize = 1023 }, ErrTagTooLarge},
		{"PreviousTagSize wrong", hx("464c56 01 05 00000009 00000000 09 000001 000000 00 000000 17 00000099"), nil, ErrPrevTagSize},
		{"PreviousTagSize0 not zero", hx("464c56 01 05 00000009 00000001"), nil, ErrPrevTagSize},
		{"DataOffset below 9", hx("464c56 01 05 00000008 00000000"), nil, nil},
		{"DataOffset of 4 GiB", hx("464c56 01 05 ffffffff 00000000"), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.in))
			if tc.setup != nil {
				tc.setup(r)
			}
			var err error
			for i := 0; i < 4 && err == nil; i++ {
				_, err = r.ReadTag()
			}
			if err == nil || err == io.EOF {
				t.Fatalf("err = %v, want an error", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// A lying DataSize must not allocate the size it claims.
func TestReaderLyingSizeAllocatesLittle(t *testing.T) {
	in := hx("464c56 01 05 00000009 00000000 09 ffffff 000000 00 000000 17 01")
	allocs := testing.AllocsPerRun(10, func() {
		r := NewReader(bytes.NewReader(in))
		if _, err := r.ReadTag(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatal(err)
		}
	})
	// Count is a proxy; bytes are checked with testing.Benchmark below.
	res := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			r := NewReader(bytes.NewReader(in))
			r.ReadTag()
		}
	})
	if per := res.AllocedBytesPerOp(); per > 512<<10 {
		t.Fatalf("a 16 MiB lie in a %d-byte file allocated %d bytes per read (%v allocs)", len(in), per, allocs)
	}
}

func TestReaderLenient(t *testing.T) {
	in := hx("464c56 01 05 00000009 00000007 09 000001 000000 00 000000 17 00000099")
	r := NewReader(bytes.NewReader(in))
	r.Lenient = true
	if _, err := r.ReadTag(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("err = %v, want io.EOF", err)
	}
	if r.Mismatches != 2 {
		t.Fatalf("Mismatches = %d, want 2", r.Mismatches)
	}
}

func TestHeaderExtraKept(t *testing.T) {
	in := hx("464c56 01 01 0000000b abcd 00000000")
	r := NewReader(bytes.NewReader(in))
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Extra, hx("abcd")) {
		t.Fatalf("Extra = % x", h.Extra)
	}
	var out bytes.Buffer
	w, _ := NewWriter(&out, h)
	w.Flush()
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("written % x, want % x", out.Bytes(), in)
	}
}

func TestWriterRejects(t *testing.T) {
	w, _ := NewWriter(io.Discard, NewHeader(true, true))
	if err := w.WriteTag(Tag{Type: TagVideo, Data: make([]byte, 1<<24)}); !errors.Is(err, ErrTagTooLarge) {
		t.Errorf("16 MiB tag: err = %v", err)
	}
	if err := w.WriteTag(Tag{Type: 32}); err == nil {
		t.Error("tag type 32 accepted")
	}
}

func TestReaderSteadyStateAllocs(t *testing.T) {
	src, err := os.ReadFile("../testdata/ffmpeg/h264_aac.flv")
	if err != nil {
		t.Fatal(err)
	}
	br := bytes.NewReader(src)
	r := NewReader(br)
	readAll(t, r) // warm the buffer to the largest tag
	allocs := testing.AllocsPerRun(5, func() {
		br.Reset(src)
		*r = Reader{r: r.r, buf: r.buf}
		r.r.Reset(br)
		for {
			_, err := r.ReadTag()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("reading a file with a warm Reader allocates %v times", allocs)
	}
}

func BenchmarkReadFile(b *testing.B) {
	src, err := os.ReadFile("../testdata/eflv/testsrc2.flv")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	br := bytes.NewReader(src)
	for i := 0; i < b.N; i++ {
		br.Reset(src)
		r := NewReader(br)
		for {
			_, err := r.ReadTag()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
