package fmp4_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
)

// FuzzParseBoxes: no input panics ParseBoxes; what it reads encodes to at
// most the input's size (every box takes input bytes), and decode, encode,
// decode is a fixed point.
func FuzzParseBoxes(f *testing.F) {
	for _, c := range boxTable {
		f.Add(c.wire)
	}
	v, a := newTrack(f, 1, flv.FourCCAVC), newTrack(f, 2, flv.FourCCAAC)
	add(f, v, fmp4.Sample{Time: 0, CompositionTime: 80, Key: true, Data: []byte{1, 2, 3}}, fmp4.Sample{Time: 40, Data: []byte{4}})
	add(f, a, fmp4.Sample{Time: 0, Key: true, Data: []byte{5, 6}})
	file := mustInit(f, v, a)
	file, _ = fmp4.AppendFragment(file, 1, v, a)
	f.Add(file)
	for _, c := range entryTable {
		if tr, err := fmp4.NewTrack(1, c.codec, c.config, c.frame); err == nil {
			f.Add(mustInit(f, tr))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		boxes, err := fmp4.ParseBoxes(b)
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, fmp4.ErrInvalid) {
				t.Fatalf("error %v is neither truncation nor invalid", err)
			}
			return
		}
		enc := encodeAll(t, boxes)
		if len(enc) > len(b) {
			t.Fatalf("%d input bytes encode to %d", len(b), len(enc))
		}
		again, err := fmp4.ParseBoxes(enc)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if !sameParsed(boxes, again) {
			t.Fatal("decode, encode, decode changed the boxes")
		}
		if !bytes.Equal(encodeAll(t, again), enc) {
			t.Fatal("encode is not a fixed point")
		}
	})
}

func encodeAll(t *testing.T, boxes []fmp4.Box) []byte {
	var enc []byte
	for i := range boxes {
		var err error
		if enc, err = boxes[i].Append(enc); err != nil {
			t.Fatal(err)
		}
	}
	return enc
}

func sameParsed(a, b []fmp4.Box) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Head, b[i].Head) || (a[i].Children == nil) != (b[i].Children == nil) {
			return false
		}
		if a[i].Children == nil && !bytes.Equal(a[i].Body, b[i].Body) {
			return false
		}
		if !sameParsed(a[i].Children, b[i].Children) {
			return false
		}
	}
	return true
}

var fuzzCodecs = []flv.FourCC{
	flv.FourCCAVC, flv.FourCCHEVC, flv.FourCCAV1, flv.FourCCVP9, flv.FourCCAAC,
	flv.FourCCMP3, flv.FourCCOpus, flv.FourCCFLAC, flv.FourCCAC3, flv.FourCCEAC3,
}

// FuzzNewTrack: any configuration and first frame give a track or an error
// from the documented set; a track writes an initialization segment and a
// fragment that read back.
func FuzzNewTrack(f *testing.F) {
	for _, c := range entryTable {
		for i, fc := range fuzzCodecs {
			if fc == c.codec {
				f.Add(byte(i), c.config, c.frame)
				f.Add(byte(i), c.config[:len(c.config)/2], c.frame[:len(c.frame)/2])
			}
		}
	}
	f.Add(byte(9), []byte(nil), eac3Syncframes(f, ec3Frame{acmod: 7, lfeon: 1}, ec3Frame{strmtyp: 1, acmod: 2, chanmap: 0x0200}))
	f.Fuzz(func(t *testing.T, codec byte, config, frame []byte) {
		fc := fuzzCodecs[int(codec)%len(fuzzCodecs)]
		tr, err := fmp4.NewTrack(1, fc, config, frame)
		if err != nil {
			for _, e := range []error{fmp4.ErrInvalid, fmp4.ErrUnsupported, fmp4.ErrNeedFrame, io.ErrUnexpectedEOF} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("%v: unexpected error %v", fc, err)
		}
		if tr.Timescale == 0 {
			t.Fatal("timescale 0")
		}
		b, err := fmp4.AppendInit(nil, tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Add(fmp4.Sample{Time: 0, Key: true, Data: append(frame, 0)}); err != nil {
			t.Fatal(err)
		}
		if b, err = tr.AppendFragment(b, 1); err != nil {
			t.Fatal(err)
		}
		boxes, err := fmp4.ParseBoxes(b)
		if err != nil {
			t.Fatalf("%v: the output does not parse: %v", fc, err)
		}
		stsd := boxes[1].Find("trak/mdia/minf/stbl/stsd")
		if stsd == nil || len(stsd.Children) != 1 || len(stsd.Children[0].Children) != 1 {
			t.Fatalf("%v: no sample entry with its configuration box", fc)
		}
	})
}

// FuzzSample: VideoSample and AudioSample take any tag Unmarshal accepts;
// a sample's data is a non-empty tail of its track's data.
func FuzzSample(f *testing.F) {
	for _, c := range videoSampleTable {
		f.Add(true, c.tag)
	}
	for _, c := range audioSampleTable {
		f.Add(false, c.tag)
	}
	f.Fuzz(func(t *testing.T, video bool, b []byte) {
		check := func(tr flv.Track, s fmp4.Sample, ok bool) {
			if ok && (len(s.Data) == 0 || !bytes.HasSuffix(tr.Data, s.Data) || s.Time != 9) {
				t.Fatalf("sample %+v from track %+v", s, tr)
			}
		}
		if video {
			var tag flv.VideoTag
			if tag.Unmarshal(b) != nil {
				return
			}
			for it := tag.Tracks(); it.Next(); {
				s, ok := fmp4.VideoSample(&tag, it.Track(), 9)
				check(it.Track(), s, ok)
			}
			return
		}
		var tag flv.AudioTag
		if tag.Unmarshal(b) != nil {
			return
		}
		for it := tag.Tracks(); it.Next(); {
			s, ok := fmp4.AudioSample(&tag, it.Track(), 9)
			check(it.Track(), s, ok)
		}
	})
}
