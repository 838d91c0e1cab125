package flv

import (
	"bytes"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// FuzzTag feeds one tag body to both parsers. Invariants: no panic; a body
// that parses re-encodes to exactly the same bytes; track walks end.
func FuzzTag(f *testing.F) {
	for _, tc := range videoGolden {
		f.Add(byte(TagVideo), tc.wire)
	}
	for _, tc := range audioGolden {
		f.Add(byte(TagAudio), tc.wire)
	}
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		var enc []byte
		var err error
		if kind&1 == 0 {
			var v VideoTag
			if v.Unmarshal(b) != nil {
				return
			}
			it := v.Tracks()
			var ids [256]bool
			distinct := true
			for n := 0; it.Next(); n++ {
				if n > len(b) {
					t.Fatal("more tracks than bytes")
				}
				distinct = distinct && !ids[it.Track().ID]
				ids[it.Track().ID] = true
			}
			if v.Multitrack && it.Err() == nil {
				parts, err := SplitVideo(&v)
				if err != nil {
					t.Fatalf("split of a walkable tag: %v", err)
				}
				// Joining needs at least one track and distinct ids.
				if _, err := JoinVideo(parts); err != nil && len(parts) > 0 && distinct {
					t.Fatalf("join of split tags: %v", err)
				}
			}
			enc, err = v.Append(nil)
		} else {
			var a AudioTag
			if a.Unmarshal(b) != nil {
				return
			}
			it := a.Tracks()
			for it.Next() {
			}
			enc, err = a.Append(nil)
		}
		if err != nil {
			t.Fatalf("a parsed tag does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded % x, want % x", enc, b)
		}
	})
}

// FuzzReader reads a whole file. Invariants: no panic, bounded memory (the
// tag size limit is small), the same tags when fed one byte at a time, and
// a rewrite of what was read reads back the same.
func FuzzReader(f *testing.F) {
	f.Add(fileGolden)
	f.Add(hx("464c56 01 05 00000009 00000000 09 ffffff 000000 00 000000 17 01"))
	if b, err := os.ReadFile("../testdata/ffmpeg/alaw.flv"); err == nil {
		f.Add(b[:min(len(b), 2000)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		read := func(r io.Reader) (Header, []Tag, error) {
			fr := NewReader(r)
			fr.MaxTagSize = 1 << 16
			h, err := fr.ReadHeader()
			if err != nil {
				return h, nil, err
			}
			var tags []Tag
			for {
				tag, err := fr.ReadTag()
				if err != nil {
					if err == io.EOF {
						err = nil
					}
					return h, tags, err
				}
				tag.Data = bytes.Clone(tag.Data)
				tags = append(tags, tag)
			}
		}
		h, tags, err := read(bytes.NewReader(b))
		h1, tags1, err1 := read(iotest.OneByteReader(bytes.NewReader(b)))
		if (err == nil) != (err1 == nil) || len(tags) != len(tags1) {
			t.Fatalf("one byte at a time: %d tags, %v; at once: %d tags, %v", len(tags1), err1, len(tags), err)
		}
		if err != nil {
			return
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			if err := w.WriteTag(tag); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		_, tags2, err := read(&out)
		if err != nil || len(tags2) != len(tags) {
			t.Fatalf("rewrite reads back %d tags, %v", len(tags2), err)
		}
		_ = h1
	})
}

// FuzzEncryptedTag parses a filtered tag body of each tag type. Invariants:
// no panic; a body that parses encodes back to exactly the same bytes, of
// the size Size reports; the parts alias the input.
func FuzzEncryptedTag(f *testing.F) {
	for _, tc := range encryptedGolden {
		f.Add(byte(tc.typ), tc.wire)
	}
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		var e EncryptedTag
		if e.Unmarshal(TagType(typ&0x1F), b) != nil {
			return
		}
		if len(e.Header)+len(e.Body) > len(b) {
			t.Fatalf("header %d + body %d bytes of %d", len(e.Header), len(e.Body), len(b))
		}
		enc, err := e.Append(nil)
		if err != nil {
			t.Fatalf("a parsed tag does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) || e.Size() != len(b) {
			t.Fatalf("re-encoded (Size %d) % x\nwant % x", e.Size(), enc, b)
		}
	})
}
