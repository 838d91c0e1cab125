package fmp4

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ertmp/rtmp/flv"
)

// Sample is one access unit of a track: a video frame or an audio frame.
type Sample struct {
	// Time is the decode time in milliseconds, as FLV and RTMP count it
	// (unwrapped to 64 bits). It is not negative.
	Time int64
	// CompositionTime is the presentation time minus the decode time in
	// milliseconds: FLV's CompositionTime, non-zero with B-frames.
	CompositionTime int32
	// Key reports a sync sample: a key frame, and every audio frame.
	Key bool
	// Data is the sample as ISOBMFF stores it (see VideoSample and
	// AudioSample). The track keeps it, not a copy, until it is written.
	Data []byte
}

// Sample flags (ISO/IEC 14496-12 §8.8.3.1):
//
//	reserved(4) is_leading(2) sample_depends_on(2) sample_is_depended_on(2)
//	sample_has_redundancy(2) sample_padding_value(3)
//	sample_is_non_sync_sample(1) sample_degradation_priority(16)
const (
	// flagsSync: depends on no other sample (sample_depends_on 2).
	flagsSync uint32 = 2 << 24
	// flagsNonSync: depends on others (1), and is not a sync sample.
	flagsNonSync uint32 = 1<<24 | 1<<16
)

// scale converts a time in milliseconds to the track's timescale, rounding
// to the nearest tick (half away from zero), without overflow for any time
// in range of the timescale.
func (t *Track) scale(ms int64) int64 {
	if ms < 0 {
		return -t.scale(-ms)
	}
	ts := int64(t.Timescale)
	return ms/1000*ts + (ms%1000*ts+500)/1000
}

// Add queues s for the next fragment. Samples come in decode order: a
// decode time before the previous sample's gives ErrDecodeOrder, a negative
// one (or a sample with no data) ErrInvalid. Past MaxFragmentSamples samples
// or MaxFragmentBytes bytes queued, Add gives ErrTooLarge: write a fragment
// first. The decode time in the track's timescale is the millisecond time
// scaled and rounded, so that durations add up to the times FLV gave however
// fragments are cut.
func (t *Track) Add(s Sample) error {
	if s.Time < 0 {
		return fmt.Errorf("fmp4: track %d: decode time %d ms: %w", t.ID, s.Time, ErrInvalid)
	}
	if len(s.Data) == 0 {
		// A zero-size sample is legal in a trun, but FFmpeg refuses a file
		// that has one, and it codes nothing.
		return fmt.Errorf("fmp4: track %d: empty sample at %d ms: %w", t.ID, s.Time, ErrInvalid)
	}
	if s.Time > math.MaxInt64/int64(max(t.Timescale, 1000)) {
		return fmt.Errorf("fmp4: track %d: decode time %d ms: %w", t.ID, s.Time, ErrTooLarge)
	}
	dts := t.scale(s.Time)
	if t.started && dts < t.lastDTS {
		return fmt.Errorf("fmp4: track %d: decode time %d ms after %d ticks of %d Hz: %w", t.ID, s.Time, t.lastDTS, t.Timescale, ErrDecodeOrder)
	}
	if t.started && dts-t.lastDTS > math.MaxUint32 {
		return fmt.Errorf("fmp4: track %d: %d ticks since the previous sample: %w", t.ID, dts-t.lastDTS, ErrTooLarge)
	}
	cto := t.scale(int64(s.CompositionTime))
	if cto < math.MinInt32 || cto > math.MaxInt32 {
		return fmt.Errorf("fmp4: track %d: composition time %d ms: %w", t.ID, s.CompositionTime, ErrTooLarge)
	}
	if len(t.samples) >= MaxFragmentSamples || len(s.Data) > MaxFragmentBytes-t.bytes {
		return fmt.Errorf("fmp4: track %d: %d samples, %d bytes queued: %w", t.ID, len(t.samples), t.bytes, ErrTooLarge)
	}
	if t.started {
		t.lastDur, t.hasDur = uint32(dts-t.lastDTS), true
	}
	t.samples = append(t.samples, queued{dts: dts, cto: int32(cto), key: s.Key, data: s.Data})
	t.bytes += len(s.Data)
	t.lastDTS, t.started = dts, true
	t.hasEnd = false
	return nil
}

// EndAt sets the decode time, in milliseconds, at which the last queued
// sample ends: usually the time of the sample that will follow it, when the
// caller cuts a fragment before that sample. Adding another sample clears
// it. Without it, the last sample of a fragment lasts one audio frame (from
// the codec: 1024 samples for AAC, the TOC of an Opus packet, ...) or, for
// video, as long as the sample before it. An end before the last sample is
// ignored.
func (t *Track) EndAt(ms int64) {
	if ms < 0 || ms > math.MaxInt64/int64(max(t.Timescale, 1000)) {
		return
	}
	t.end, t.hasEnd = t.scale(ms), true
}

// Pending returns the number of samples queued and their bytes.
func (t *Track) Pending() (samples, bytes int) { return len(t.samples), t.bytes }

// Discard drops the queued samples, as after a discontinuity; the next
// sample starts the time line afresh.
func (t *Track) Discard() {
	clear(t.samples)
	t.samples, t.bytes = t.samples[:0], 0
	t.started, t.hasDur, t.hasEnd = false, false, false
}

// duration returns sample i's duration in the timescale.
func (t *Track) duration(i int) uint32 {
	if i+1 < len(t.samples) {
		return uint32(t.samples[i+1].dts - t.samples[i].dts)
	}
	last := &t.samples[i]
	if t.hasEnd && t.end >= last.dts && t.end-last.dts <= math.MaxUint32 {
		return uint32(t.end - last.dts)
	}
	if !t.IsVideo() {
		if t.Codec == flv.FourCCOpus {
			if d := opusSamples(last.data); d > 0 {
				return d
			}
		}
		if t.frameDur > 0 {
			return t.frameDur
		}
	}
	if t.hasDur {
		return t.lastDur
	}
	if t.IsVideo() {
		return t.Timescale / 30
	}
	return t.Timescale / 50
}

func (q *queued) flags() uint32 {
	if q.key {
		return flagsSync
	}
	return flagsNonSync
}

// tfhd and trun flags (ISO/IEC 14496-12 §8.8.7.1, §8.8.8.1).
const (
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	tfhdDefaultBaseIsMoof = 0x020000

	trunDataOffset       = 0x000001
	trunFirstSampleFlags = 0x000004
	trunDuration         = 0x000100
	trunSize             = 0x000200
	trunFlags            = 0x000400
	trunCompositionTime  = 0x000800
)

// AppendFragment appends the samples queued in t as one fragment, moof and
// mdat, with sequence number seq; see AppendFragment.
func (t *Track) AppendFragment(dst []byte, seq uint32) ([]byte, error) {
	return AppendFragment(dst, seq, t)
}

// AppendFragment appends one movie fragment holding the samples queued in
// the given tracks, and empties their queues (ISO/IEC 14496-12 §8.8):
//
//	moof
//	  mfhd  sequence_number
//	  traf  (one per track with samples)
//	    tfhd  track_ID, default-base-is-moof, and the defaults the samples share
//	    tfdt  version 1: 64-bit baseMediaDecodeTime, the first sample's decode time
//	    trun  data_offset, and per sample what differs: duration, size, flags,
//	          composition time offset (version 1, signed)
//	mdat  the samples of each track in turn
//
// One track per fragment is the CMAF layout; several make one moof with a
// traf each. Sequence numbers start at 1 and increase by one per fragment.
// A sample's duration is the next sample's decode time minus its own; see
// Track.EndAt for the last one. Sync samples are flagged as depending on no
// other (sample_depends_on 2), others as non-sync depending on others.
// With no sample queued in any track, AppendFragment gives ErrInvalid.
func AppendFragment(dst []byte, seq uint32, tracks ...*Track) ([]byte, error) {
	total := 0
	n := 0
	for i, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		for _, u := range tracks[:i] {
			if u.ID == t.ID && len(u.samples) > 0 {
				return dst, fmt.Errorf("fmp4: fragment %d: track %d twice: %w", seq, t.ID, ErrInvalid)
			}
		}
		n++
		total += t.bytes
	}
	if n == 0 {
		return dst, fmt.Errorf("fmp4: fragment %d: no samples queued: %w", seq, ErrInvalid)
	}
	if uint64(total)+8 > math.MaxUint32 {
		return dst, fmt.Errorf("fmp4: fragment %d: %d bytes of samples: %w", seq, total, ErrTooLarge)
	}

	moof := len(dst)
	dst, _ = StartBox(dst, typeMoof)
	dst, at := StartFullBox(dst, typeMfhd, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, seq)
	EndBox(dst, at)
	// Each trun's data_offset is first written relative to the mdat body,
	// then moved past the moof and the mdat header once the moof's size is
	// known; offsets remembers where the fields are.
	var offsetsArr [8]int
	offsets := offsetsArr[:0]
	rel := 0
	for _, t := range tracks {
		if len(t.samples) == 0 {
			continue
		}
		var off int
		dst, off = t.appendTraf(dst, rel)
		offsets = append(offsets, off)
		rel += t.bytes
	}
	EndBox(dst, moof)
	shift := uint32(len(dst)-moof) + 8
	for _, off := range offsets {
		binary.BigEndian.PutUint32(dst[off:], binary.BigEndian.Uint32(dst[off:])+shift)
	}

	dst = binary.BigEndian.AppendUint32(dst, uint32(8+total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(typeMdat))
	for _, t := range tracks {
		for i := range t.samples {
			dst = append(dst, t.samples[i].data...)
		}
		clear(t.samples)
		t.samples, t.bytes = t.samples[:0], 0
		t.hasEnd = false
	}
	return dst, nil
}

// appendTraf writes t's traf with data_offset rel, and returns where the
// data_offset field is.
func (t *Track) appendTraf(dst []byte, rel int) ([]byte, int) {
	s := t.samples
	n := len(s)
	// What the samples share goes in tfhd once.
	dur0, size0 := t.duration(0), len(s[0].data)
	sameDur, sameSize, sameFlags, sameRest, anyCTO := true, true, true, true, false
	for i := range s {
		if t.duration(i) != dur0 {
			sameDur = false
		}
		if len(s[i].data) != size0 {
			sameSize = false
		}
		if s[i].flags() != s[0].flags() {
			sameFlags = false
		}
		if i > 1 && s[i].flags() != s[1].flags() {
			sameRest = false
		}
		if s[i].cto != 0 {
			anyCTO = true
		}
	}
	tfhd := uint32(tfhdDefaultBaseIsMoof)
	trun := uint32(trunDataOffset)
	if sameDur {
		tfhd |= tfhdDefaultDuration
	} else {
		trun |= trunDuration
	}
	if sameSize {
		tfhd |= tfhdDefaultSize
	} else {
		trun |= trunSize
	}
	var defaultFlags uint32
	switch {
	case sameFlags:
		tfhd |= tfhdDefaultFlags
		defaultFlags = s[0].flags()
	case sameRest:
		tfhd |= tfhdDefaultFlags
		trun |= trunFirstSampleFlags
		defaultFlags = s[1].flags()
	default:
		trun |= trunFlags
	}
	version := uint8(0)
	if anyCTO {
		trun |= trunCompositionTime
		version = 1
	}

	dst, traf := StartBox(dst, typeTraf)
	dst, at := StartFullBox(dst, typeTfhd, 0, tfhd)
	dst = binary.BigEndian.AppendUint32(dst, t.ID)
	if sameDur {
		dst = binary.BigEndian.AppendUint32(dst, dur0)
	}
	if sameSize {
		dst = binary.BigEndian.AppendUint32(dst, uint32(size0))
	}
	if tfhd&tfhdDefaultFlags != 0 {
		dst = binary.BigEndian.AppendUint32(dst, defaultFlags)
	}
	EndBox(dst, at)

	dst, at = StartFullBox(dst, typeTfdt, 1, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(s[0].dts))
	EndBox(dst, at)

	dst, at = StartFullBox(dst, typeTrun, version, trun)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	off := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(rel))
	if trun&trunFirstSampleFlags != 0 {
		dst = binary.BigEndian.AppendUint32(dst, s[0].flags())
	}
	for i := range s {
		if trun&trunDuration != 0 {
			dst = binary.BigEndian.AppendUint32(dst, t.duration(i))
		}
		if trun&trunSize != 0 {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(s[i].data)))
		}
		if trun&trunFlags != 0 {
			dst = binary.BigEndian.AppendUint32(dst, s[i].flags())
		}
		if trun&trunCompositionTime != 0 {
			dst = binary.BigEndian.AppendUint32(dst, uint32(s[i].cto))
		}
	}
	EndBox(dst, at)
	EndBox(dst, traf)
	return dst, off
}
