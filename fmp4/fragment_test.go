package fmp4_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
)

func newTrack(t testing.TB, id uint32, codec flv.FourCC) *fmp4.Track {
	t.Helper()
	var config, frame []byte
	switch codec {
	case flv.FourCCAVC:
		config = avcRecord
	case flv.FourCCAAC:
		config = aacConfig
	case flv.FourCCOpus:
		config = opusHead2
	case flv.FourCCAC3:
		frame = ac3Frame
	case flv.FourCCFLAC:
		config = flacInfo
	case flv.FourCCMP3:
		frame = mp3Frame44
	}
	tr, err := fmp4.NewTrack(id, codec, config, frame)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func add(t testing.TB, tr *fmp4.Track, samples ...fmp4.Sample) {
	t.Helper()
	for _, s := range samples {
		if err := tr.Add(s); err != nil {
			t.Fatal(err)
		}
	}
}

// fragment writes tr's queued samples behind an init segment and reads the
// whole back.
func fragment(t testing.TB, seq uint32, tracks ...*fmp4.Track) *decoded {
	t.Helper()
	b, err := fmp4.AppendInit(nil, tracks...)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = fmp4.AppendFragment(b, seq, tracks...); err != nil {
		t.Fatal(err)
	}
	return decodeFile(t, b)
}

// A fragment of video with B-frames, as FLV times them (decode 0, 40, 80
// ms; composition +80, +120, +0), byte for byte (ISO/IEC 14496-12 §8.8):
// tfhd with default-base-is-moof and the shared duration (3600) and flags
// of the non-key samples; tfdt version 1; trun version 1 with data_offset,
// first_sample_flags (sync), sizes and signed composition offsets.
func TestFragmentGolden(t *testing.T) {
	tr := newTrack(t, 1, flv.FourCCAVC)
	add(t, tr,
		fmp4.Sample{Time: 1000, CompositionTime: 80, Key: true, Data: []byte{1, 1, 1}},
		fmp4.Sample{Time: 1040, CompositionTime: 120, Data: []byte{2, 2}},
		fmp4.Sample{Time: 1080, CompositionTime: -40, Data: []byte{3}},
	)
	got, err := tr.AppendFragment(nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := h("" +
		"0000007c 6d6f6f66" + // moof, 124 bytes
		"00000010 6d666864 00000000 00000005" + // mfhd: sequence_number 5
		"00000064 74726166" + // traf
		"00000018 74666864 00020028 00000001 00000e10 01010000" + // tfhd: flags 0x020028, track 1, duration 3600, flags non-sync
		"00000014 74666474 01000000 0000000000015f90" + // tfdt: version 1, 90000
		"00000030 7472756e 01000a05 00000003 00000084 02000000" + // trun: v1, flags 0xa05, 3 samples, data_offset 132 (moof and mdat header), first flags sync
		"00000003 00001c20" + "00000002 00002a30" + "00000001 fffff1f0" + // size and composition offset per sample
		"0000000e 6d646174 010101 0202 03") // mdat
	if !bytes.Equal(got, want) {
		t.Fatalf("fragment\n got % x\nwant % x", got, want)
	}
	if n, b := tr.Pending(); n != 0 || b != 0 {
		t.Fatalf("%d samples, %d bytes still queued", n, b)
	}
}

// Durations: from the next sample within a fragment; for the last, EndAt,
// else the codec's frame (audio), else the sample before (video), else a
// default; the time line carries over between fragments.
func TestDurations(t *testing.T) {
	durations := func(d *decoded) []uint32 {
		var out []uint32
		for _, s := range d.samples {
			out = append(out, s.dur)
		}
		return out
	}
	same := func(a, b []uint32) bool { return len(a) == len(b) && string(u32bytes(a)) == string(u32bytes(b)) }

	v := newTrack(t, 1, flv.FourCCAVC)
	add(t, v, fmp4.Sample{Time: 0, Key: true, Data: []byte{1}})
	if d := durations(fragment(t, 1, v)); !same(d, []uint32{3000}) {
		t.Errorf("a first video sample alone: %v, want 1/30 s", d)
	}
	add(t, v, fmp4.Sample{Time: 40, Data: []byte{1}}, fmp4.Sample{Time: 100, Data: []byte{1}})
	if d := durations(fragment(t, 2, v)); !same(d, []uint32{5400, 5400}) {
		t.Errorf("video: %v, want the previous duration for the last", d)
	}
	add(t, v, fmp4.Sample{Time: 140, Data: []byte{1}})
	if d := durations(fragment(t, 3, v)); !same(d, []uint32{3600}) {
		t.Errorf("video alone: %v, want the gap from the sample before", d)
	}
	add(t, v, fmp4.Sample{Time: 180, Data: []byte{1}})
	v.EndAt(190)
	if d := durations(fragment(t, 4, v)); !same(d, []uint32{900}) {
		t.Errorf("EndAt: %v", d)
	}
	add(t, v, fmp4.Sample{Time: 200, Data: []byte{1}})
	v.EndAt(150) // before the sample: ignored
	if d := durations(fragment(t, 5, v)); !same(d, []uint32{1800}) {
		t.Errorf("EndAt before the sample: %v", d)
	}
	v.EndAt(1000)
	add(t, v, fmp4.Sample{Time: 240, Data: []byte{1}})
	if d := durations(fragment(t, 6, v)); !same(d, []uint32{3600}) {
		t.Errorf("EndAt cleared by Add: %v", d)
	}

	for _, c := range []struct {
		codec flv.FourCC
		data  []byte
		want  uint32
	}{
		{flv.FourCCAAC, []byte{1}, 1024},
		{flv.FourCCAC3, []byte{1}, 1536},
		{flv.FourCCMP3, []byte{1}, 1152},
		{flv.FourCCFLAC, []byte{1}, 1024},          // STREAMINFO: fixed 1024-sample blocks
		{flv.FourCCOpus, []byte{0xfc}, 960},        // CELT 20 ms, one frame
		{flv.FourCCOpus, []byte{0x09}, 1920},       // SILK 10 ms, two frames (code 1)
		{flv.FourCCOpus, []byte{0x03, 0x03}, 1440}, // SILK 10 ms, code 3, three frames
	} {
		a := newTrack(t, 2, c.codec)
		add(t, a, fmp4.Sample{Time: 0, Key: true, Data: []byte{9}}, fmp4.Sample{Time: 21, Key: true, Data: c.data})
		d := durations(fragment(t, 1, a))
		if d[1] != c.want {
			t.Errorf("%v last sample % x: %d, want %d", c.codec, c.data, d[1], c.want)
		}
	}
}

func u32bytes(v []uint32) []byte {
	var b []byte
	for _, x := range v {
		b = append(b, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
	return b
}

// Decode times are the FLV milliseconds in the timescale, rounded, whatever
// the fragmentation: 44.1 kHz does not divide a millisecond.
func TestDecodeTimes(t *testing.T) {
	a := newTrack(t, 1, flv.FourCCAAC)
	times := []int64{1 << 40, 1<<40 + 23, 1<<40 + 46, 1<<40 + 70, 1<<40 + 93, 1<<40 + 116, 1<<40 + 139, 1<<40 + 163, 1<<40 + 186}
	var all []decodedSample
	for i, ms := range times {
		add(t, a, fmp4.Sample{Time: ms, Key: true, Data: []byte{byte(i)}})
		if i%3 == 2 || i == len(times)-1 {
			all = append(all, fragment(t, uint32(i), a).samples...)
		}
	}
	for i, s := range all {
		want := uint64((times[i]*44100 + 500) / 1000)
		if s.dts != want {
			t.Errorf("sample %d at %d ms: dts %d, want %d", i, times[i], s.dts, want)
		}
	}
}

func TestAddErrors(t *testing.T) {
	v := newTrack(t, 1, flv.FourCCAVC)
	add(t, v, fmp4.Sample{Time: 100, Key: true, Data: []byte{1}})
	for _, c := range []struct {
		name string
		s    fmp4.Sample
		want error
	}{
		{"backwards", fmp4.Sample{Time: 99, Data: []byte{1}}, fmp4.ErrDecodeOrder},
		{"negative", fmp4.Sample{Time: -1, Data: []byte{1}}, fmp4.ErrInvalid},
		{"empty", fmp4.Sample{Time: 200, Data: nil}, fmp4.ErrInvalid},
		{"too far", fmp4.Sample{Time: math.MaxInt64, Data: []byte{1}}, fmp4.ErrTooLarge},
		{"a gap past 32 bits", fmp4.Sample{Time: 100 + 50_000_000, Data: []byte{1}}, fmp4.ErrTooLarge},
	} {
		if err := v.Add(c.s); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// The same decode time twice is allowed (a zero duration).
	add(t, v, fmp4.Sample{Time: 100, Data: []byte{2}})
	if n, b := v.Pending(); n != 2 || b != 2 {
		t.Fatalf("pending %d, %d", n, b)
	}
	v.Discard()
	if n, b := v.Pending(); n != 0 || b != 0 {
		t.Fatalf("after Discard: %d, %d", n, b)
	}
	// After Discard the time line starts again.
	add(t, v, fmp4.Sample{Time: 5, Key: true, Data: []byte{1}})
}

func TestFragmentLimits(t *testing.T) {
	v := newTrack(t, 1, flv.FourCCAVC)
	one := []byte{1}
	for i := 0; i < fmp4.MaxFragmentSamples; i++ {
		add(t, v, fmp4.Sample{Time: int64(i), Data: one})
	}
	if err := v.Add(fmp4.Sample{Time: 1 << 20, Data: one}); !errors.Is(err, fmp4.ErrTooLarge) {
		t.Fatalf("sample %d: %v", fmp4.MaxFragmentSamples+1, err)
	}
	b, err := v.AppendFragment(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(decodeFile(t, append(mustInit(t, v), b...)).samples); n != fmp4.MaxFragmentSamples {
		t.Fatalf("%d samples read back", n)
	}

	big := make([]byte, 1<<20) // shared, so that the test holds 1 MiB
	a := newTrack(t, 2, flv.FourCCAAC)
	for i := 0; i < fmp4.MaxFragmentBytes>>20; i++ {
		add(t, a, fmp4.Sample{Time: int64(i), Data: big})
	}
	if err := a.Add(fmp4.Sample{Time: 1 << 20, Data: one}); !errors.Is(err, fmp4.ErrTooLarge) {
		t.Fatalf("past %d bytes: %v", fmp4.MaxFragmentBytes, err)
	}
}

func mustInit(t testing.TB, tracks ...*fmp4.Track) []byte {
	t.Helper()
	b, err := fmp4.AppendInit(nil, tracks...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendFragmentErrors(t *testing.T) {
	v := newTrack(t, 1, flv.FourCCAVC)
	if _, err := fmp4.AppendFragment(nil, 1, v); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("nothing queued: %v", err)
	}
	if _, err := fmp4.AppendFragment(nil, 1); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("no tracks: %v", err)
	}
	add(t, v, fmp4.Sample{Time: 0, Key: true, Data: []byte{1}})
	w := newTrack(t, 1, flv.FourCCAAC)
	add(t, w, fmp4.Sample{Time: 0, Key: true, Data: []byte{1}})
	if _, err := fmp4.AppendFragment(nil, 1, v, w); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("two tracks with ID 1: %v", err)
	}
	if _, err := fmp4.AppendFragment(nil, 1, v, v); !errors.Is(err, fmp4.ErrInvalid) {
		t.Errorf("one track twice: %v", err)
	}
	if n, _ := v.Pending(); n != 1 {
		t.Errorf("a failed write emptied the queue")
	}
}

// Several tracks in one fragment: one traf each, one mdat, each trun's
// data_offset pointing at its own samples; tracks with nothing queued are
// left out.
func TestMultiTrackFragment(t *testing.T) {
	v := newTrack(t, 1, flv.FourCCAVC)
	a := newTrack(t, 2, flv.FourCCAAC)
	idle := newTrack(t, 3, flv.FourCCOpus)
	add(t, v, fmp4.Sample{Time: 0, Key: true, Data: []byte("key")}, fmp4.Sample{Time: 40, Data: []byte("p1")})
	add(t, a, fmp4.Sample{Time: 0, Key: true, Data: []byte("aa")}, fmp4.Sample{Time: 23, Key: true, Data: []byte("bbb")}, fmp4.Sample{Time: 46, Key: true, Data: []byte("c")})
	file := mustInit(t, v, a, idle)
	file, err := fmp4.AppendFragment(file, 1, v, a, idle)
	if err != nil {
		t.Fatal(err)
	}
	d := decodeFile(t, file)
	var got []string
	for _, s := range d.samples {
		got = append(got, string(s.data))
	}
	if want := "key p1 aa bbb c"; join(got) != want {
		t.Fatalf("samples %q, want %q", join(got), want)
	}
	boxes, _ := fmp4.ParseBoxes(file)
	if n := len(boxes[2].Children); n != 3 { // mfhd and two trafs
		t.Fatalf("moof has %d boxes", n)
	}
	if boxes[3].Type.String() != "mdat" || len(boxes) != 4 {
		t.Fatalf("boxes %v", boxes)
	}
	// Audio alone: every sample sync, so tfhd carries the flags.
	if s := d.track(2); s[0].flags != syncFlags || s[2].flags != syncFlags {
		t.Fatalf("audio flags %#x", s[0].flags)
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

// Sample flags by pattern: per-sample flags when a key frame is not first.
func TestSampleFlagsPatterns(t *testing.T) {
	for _, keys := range [][]bool{
		{true},
		{false, false},
		{true, false, false},
		{false, true, false},
		{true, true, false, true},
	} {
		v := newTrack(t, 1, flv.FourCCAVC)
		for i, k := range keys {
			add(t, v, fmp4.Sample{Time: int64(i * 40), Key: k, Data: []byte{byte(i)}})
		}
		d := fragment(t, 1, v)
		for i, s := range d.samples {
			want := uint32(nonSyncFlags)
			if keys[i] {
				want = syncFlags
			}
			if s.flags != want {
				t.Errorf("%v: sample %d flags %#x", keys, i, s.flags)
			}
		}
	}
}

// Steady state: adding samples and writing fragments into a buffer with
// room does not allocate.
func TestFragmentAllocs(t *testing.T) {
	v := newTrack(t, 1, flv.FourCCAVC)
	a := newTrack(t, 2, flv.FourCCAAC)
	data := make([]byte, 1000)
	buf := make([]byte, 0, 1<<16)
	ms := int64(0)
	round := func() {
		for i := 0; i < 10; i++ {
			v.Add(fmp4.Sample{Time: ms, CompositionTime: 40, Key: i == 0, Data: data})
			a.Add(fmp4.Sample{Time: ms, Key: true, Data: data[:300]})
			ms += 40
		}
		v.EndAt(ms)
		var err error
		if _, err = fmp4.AppendFragment(buf[:0], 1, v); err != nil {
			t.Fatal(err)
		}
		if _, err = fmp4.AppendFragment(buf[:0], 2, v, a); err != nil {
			t.Fatal(err)
		}
	}
	round()
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("%v allocations per round", n)
	}
}

func BenchmarkFragment(b *testing.B) {
	v := newTrack(b, 1, flv.FourCCAVC)
	data := make([]byte, 5000)
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	b.SetBytes(30 * 5000)
	ms := int64(0)
	for b.Loop() {
		for i := 0; i < 30; i++ {
			v.Add(fmp4.Sample{Time: ms, CompositionTime: 80, Key: i == 0, Data: data})
			ms += 33
		}
		buf, _ = v.AppendFragment(buf[:0], 1)
	}
}
