package fmp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ertmp/rtmp/codecinfo"
	"github.com/ertmp/rtmp/flv"
)

// VideoTimescale is the media timescale of video tracks: 90 kHz, in which
// FLV's millisecond times are exact.
const VideoTimescale = 90000

// Limits on what one track queues for a fragment: Track.Add refuses a sample
// past them with ErrTooLarge.
const (
	MaxFragmentSamples = 1 << 16
	MaxFragmentBytes   = 1 << 28
)

// Track is one track of a fragmented MP4 stream: its sample entry, made once
// by NewTrack from the codec configuration, and the samples queued for the
// next fragment, with the time state that turns FLV's millisecond decode
// times into durations in the track's timescale.
//
// The exported fields are set by NewTrack and must not be changed. A Track
// is not safe for concurrent use: one goroutine adds samples and writes
// fragments. Samples are kept by reference until the fragment that holds
// them is written; their data must not change meanwhile.
type Track struct {
	// ID is the track_ID, unique in an initialization segment and not zero.
	ID uint32
	// Codec is the codec as an Enhanced RTMP FourCC (legacy AVC, AAC and
	// MP3 are avc1, mp4a and .mp3).
	Codec flv.FourCC
	// Timescale is the media timescale: VideoTimescale for video, the
	// sample rate for audio.
	Timescale uint32
	// Video or Audio is what the configuration says about the stream, as
	// codecinfo reads it: the picture size, or the sample rate and channels.
	Video codecinfo.Video
	Audio codecinfo.Audio

	entry    []byte // the sample entry box
	frameDur uint32 // an audio frame's duration in the timescale, 0 if unknown

	// Fragment state.
	samples []queued
	bytes   int
	started bool
	lastDTS int64 // decode time of the last sample added, in the timescale
	lastDur uint32
	hasDur  bool
	end     int64 // decode time the last queued sample ends at, if hasEnd
	hasEnd  bool
}

// queued is a sample waiting for its fragment.
type queued struct {
	dts  int64 // in the timescale
	cto  int32 // in the timescale
	key  bool
	data []byte
}

// NewTrack makes track id for a stream of codec, from config, the decoder
// configuration that the FLV or Enhanced RTMP sequence header carries (after
// the tag header: see flv.Track.Data), and frame, the first coded frame, for
// the codecs that need it:
//
//	avc1  AVCDecoderConfigurationRecord          -> avc1 + avcC (ISO/IEC 14496-15 §5.4.2)
//	hvc1  HEVCDecoderConfigurationRecord         -> hvc1 + hvcC (ISO/IEC 14496-15 §8.4.1)
//	av01  AV1CodecConfigurationRecord            -> av01 + av1C (AV1-ISOBMFF §2.2, §2.3)
//	vp09  VPCodecConfigurationRecord, key frame  -> vp09 + vpcC (VP-ISOBMFF §2.2); the frame gives the size
//	mp4a  AudioSpecificConfig                    -> mp4a + esds, objectTypeIndication 0x40 (ISO/IEC 14496-14)
//	.mp3  (none), frame                          -> mp4a + esds, objectTypeIndication 0x6B (MPEG-1) or 0x69 (MPEG-2)
//	Opus  OpusHead                               -> Opus + dOps (Opus-ISOBMFF §4.3)
//	fLaC  STREAMINFO (or "fLaC" and blocks)      -> fLaC + dfLa (FLAC-ISOBMFF §3.3)
//	ac-3  (none), frame                          -> ac-3 + dac3 (ETSI TS 102 366 §F.4)
//	ec-3  (none), frame                          -> ec-3 + dec3 (ETSI TS 102 366 §F.6)
//
// Enhanced RTMP v2 gives AC-3 and E-AC-3 no configuration record (their
// SequenceStart is empty; FFmpeg sends it so): the sample entry is built from
// the first syncframe's header. An empty Opus SequenceStart means mono or
// stereo; the first frame's TOC says which.
//
// A codec that needs a frame and got none (or, for vp09, not a key frame)
// gives ErrNeedFrame; a codec this package does not write, or a
// configuration version codecinfo does not read, ErrUnsupported; a
// malformed configuration or frame, ErrInvalid (with codecinfo's error
// when codecinfo found it) or io.ErrUnexpectedEOF.
// NewTrack copies what it keeps: config and frame may be reused.
func NewTrack(id uint32, codec flv.FourCC, config, frame []byte) (*Track, error) {
	if id == 0 {
		return nil, fmt.Errorf("fmp4: track id 0: %w", ErrInvalid)
	}
	t := &Track{ID: id, Codec: codec}
	if err := t.build(config, frame); err != nil {
		switch {
		case errors.Is(err, ErrNeedFrame), errors.Is(err, ErrUnsupported),
			errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrInvalid):
			return nil, fmt.Errorf("fmp4: track %d (%v): %w", id, codec, err)
		case errors.Is(err, codecinfo.ErrUnsupported):
			return nil, fmt.Errorf("fmp4: track %d (%v): %w: %w", id, codec, ErrUnsupported, err)
		}
		return nil, fmt.Errorf("fmp4: track %d (%v): %w: %w", id, codec, ErrInvalid, err)
	}
	return t, nil
}

// IsVideo reports a video track.
func (t *Track) IsVideo() bool { return t.Codec.IsVideo() }

func (t *Track) build(config, frame []byte) error {
	var err error
	var e []byte
	switch t.Codec {
	case flv.FourCCAVC:
		if t.Video, err = codecinfo.ParseAVCConfig(config); err == nil {
			e, err = t.visualEntry(typeAvc1, typeAvcC, config)
		}
	case flv.FourCCHEVC:
		if t.Video, err = codecinfo.ParseHEVCConfig(config); err == nil {
			e, err = t.visualEntry(typeHvc1, typeHvcC, config)
		}
	case flv.FourCCAV1:
		if t.Video, err = codecinfo.ParseAV1Config(config); err == nil {
			e, err = t.visualEntry(typeAv01, typeAv1C, config)
		}
	case flv.FourCCVP9:
		e, err = t.vp9Entry(config, frame)
	case flv.FourCCAAC:
		if t.Audio, err = codecinfo.ParseAACConfig(config); err == nil {
			e = t.audioEntry(typeMp4a)
			e = appendEsds(e, 0x40, config, 0)
			t.frameDur = aacFrameSamples(t.Audio.Profile)
		}
	case flv.FourCCMP3:
		e, err = t.mp3Entry(frame)
	case flv.FourCCOpus:
		e, err = t.opusEntry(config, frame)
	case flv.FourCCFLAC:
		if t.Audio, err = codecinfo.ParseFLACConfig(config); err == nil {
			e = t.audioEntry(typeFLaC)
			e, err = appendDfLa(e, config)
			t.frameDur = flacFixedBlockSize(config)
		}
	case flv.FourCCAC3:
		e, err = t.ac3Entry(frame)
	case flv.FourCCEAC3:
		e, err = t.ec3Entry(frame)
	default:
		return fmt.Errorf("no fMP4 sample entry for this codec: %w", ErrUnsupported)
	}
	if err != nil {
		return err
	}
	if t.IsVideo() {
		t.Timescale = VideoTimescale
	} else {
		if t.Audio.SampleRate <= 0 || t.Audio.Channels <= 0 || t.Audio.Channels > 0xffff {
			return fmt.Errorf("sample rate %d, %d channels: %w", t.Audio.SampleRate, t.Audio.Channels, ErrInvalid)
		}
		t.Timescale = uint32(t.Audio.SampleRate)
	}
	EndBox(e, 0)
	t.entry = e
	return nil
}

// visualEntry starts a VisualSampleEntry of type typ and appends the
// configuration box cfgType holding record as it is.
func (t *Track) visualEntry(typ, cfgType BoxType, record []byte) ([]byte, error) {
	e, err := t.visualHead(typ)
	if err != nil {
		return nil, err
	}
	return appendBox(e, cfgType, record), nil
}

func (t *Track) visualHead(typ BoxType) ([]byte, error) {
	w, h := t.Video.Width, t.Video.Height
	if w <= 0 || h <= 0 || w > 0xffff || h > 0xffff {
		return nil, fmt.Errorf("picture size %dx%d: %w", w, h, ErrInvalid)
	}
	e, _ := StartBox(nil, typ)
	return appendVisualEntryHead(e, w, h), nil
}

// vp9Entry writes vp09 + vpcC. The record carries no picture size, so the
// first key frame's uncompressed header gives it. FFmpeg sends the whole
// vpcC FullBox body (version and flags first); a bare record gets version 1
// and flags 0 in front, as codecinfo.ParseVPConfig tells them apart.
func (t *Track) vp9Entry(config, frame []byte) ([]byte, error) {
	v, err := codecinfo.ParseVPConfig(config, "vp9")
	if err != nil {
		return nil, err
	}
	if len(frame) == 0 {
		return nil, fmt.Errorf("the picture size is in the first key frame: %w", ErrNeedFrame)
	}
	k, err := codecinfo.ParseVP9Keyframe(frame)
	if errors.Is(err, codecinfo.ErrNotKeyframe) {
		return nil, fmt.Errorf("the picture size is in a key frame: %w", ErrNeedFrame)
	}
	if err != nil {
		return nil, err
	}
	v.Width, v.Height = k.Width, k.Height
	t.Video = v
	e, err := t.visualHead(typeVp09)
	if err != nil {
		return nil, err
	}
	if len(config) >= 4 && config[0] <= 1 && config[1] == 0 && config[2] == 0 && config[3] == 0 {
		return appendBox(e, typeVpcC, config), nil
	}
	e, at := StartFullBox(e, typeVpcC, 1, 0)
	e = append(e, config...)
	EndBox(e, at)
	return e, nil
}

// audioEntry starts an AudioSampleEntry of type typ.
func (t *Track) audioEntry(typ BoxType) []byte {
	e, _ := StartBox(nil, typ)
	return appendAudioEntryHead(e, t.Audio.Channels, t.Audio.SampleRate)
}

// mp3Entry writes MPEG audio as mp4a with no decoder specific info, its
// objectTypeIndication saying which standard (ISO/IEC 14496-1 Table 5): 0x6B
// for ISO/IEC 11172-3 (MPEG-1, 32 to 48 kHz), 0x69 for ISO/IEC 13818-3
// (MPEG-2 low sampling rates, and MPEG-2.5 in practice).
func (t *Track) mp3Entry(frame []byte) ([]byte, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("MP3 has no configuration record: %w", ErrNeedFrame)
	}
	a, err := codecinfo.ParseMP3Frame(frame)
	if err != nil {
		return nil, err
	}
	t.Audio = a
	oti := byte(0x6b)
	if a.SampleRate < 32000 {
		oti = 0x69
	}
	switch {
	case a.Codec == "mp1":
		t.frameDur = 384
	case a.Codec == "mp3" && a.SampleRate < 32000:
		t.frameDur = 576
	default:
		t.frameDur = 1152
	}
	return appendEsds(t.audioEntry(typeMp4a), oti, nil, uint32(a.BitRate)), nil
}

// opusEntry writes Opus + dOps. The sample entry's rate is 48000, the rate
// Opus decodes at, and so is the timescale (Opus-ISOBMFF §4.3.1).
func (t *Track) opusEntry(config, frame []byte) ([]byte, error) {
	t.frameDur = 960
	if len(config) == 0 {
		if len(frame) == 0 {
			return nil, fmt.Errorf("an empty OpusHead leaves the channel count to the first frame: %w", ErrNeedFrame)
		}
		// RFC 6716 §3.1: the TOC byte's s bit is 1 for stereo.
		t.Audio = codecinfo.Audio{Codec: "opus", SampleRate: 48000, Channels: 1 + int(frame[0]>>2&1)}
		return appendDefaultDOps(t.audioEntry(typeOpus), t.Audio.Channels), nil
	}
	a, err := codecinfo.ParseOpusHead(config)
	if err != nil {
		return nil, err
	}
	t.Audio = a
	return appendDOps(t.audioEntry(typeOpus), config), nil
}

func (t *Track) ac3Entry(frame []byte) ([]byte, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("AC-3 has no configuration record: %w", ErrNeedFrame)
	}
	a, err := codecinfo.ParseAC3Frame(frame)
	if err != nil {
		return nil, err
	}
	info, err := parseAC3(frame)
	if err != nil {
		return nil, err
	}
	t.Audio, t.frameDur = a, 1536
	return appendDac3(t.audioEntry(typeAc3), info), nil
}

func (t *Track) ec3Entry(frame []byte) ([]byte, error) {
	if len(frame) == 0 {
		return nil, fmt.Errorf("E-AC-3 has no configuration record: %w", ErrNeedFrame)
	}
	a, err := codecinfo.ParseEAC3Frame(frame)
	if err != nil {
		return nil, err
	}
	var subs [maxEC3Substreams]ec3Substream
	info, err := parseEC3(frame, subs[:0])
	if err != nil {
		return nil, err
	}
	t.Audio, t.frameDur = a, uint32(info.samples)
	return appendDec3(t.audioEntry(typeEc3), info), nil
}

// aacFrameSamples is the samples an AAC access unit decodes to at the
// track's rate (ISO/IEC 14496-3): 1024, twice that with SBR (the rate is
// the doubled one), 512 for AAC-LD and 480 for AAC-ELD.
func aacFrameSamples(profile string) uint32 {
	switch profile {
	case "HE-AAC", "HE-AACv2":
		return 2048
	case "LD":
		return 512
	case "ELD":
		return 480
	}
	return 1024
}

// flacFixedBlockSize returns the block size of a stream whose STREAMINFO
// gives the same minimum and maximum (RFC 9639 §8.2), else 0.
func flacFixedBlockSize(config []byte) uint32 {
	switch {
	case len(config) >= 8 && string(config[:4]) == "fLaC":
		config = config[8:]
	case len(config) >= 4 && config[0]&0x7f == 0 && config[1] == 0 && config[2] == 0 && config[3] == flacStreamInfoLen:
		config = config[4:]
	}
	if len(config) < 4 {
		return 0
	}
	lo, hi := binary.BigEndian.Uint16(config), binary.BigEndian.Uint16(config[2:])
	if lo != hi {
		return 0
	}
	return uint32(lo)
}

// opusSamples returns the duration of an Opus packet in 48 kHz samples from
// its TOC byte (RFC 6716 §3.1), or 0 for a malformed packet.
func opusSamples(p []byte) uint32 {
	if len(p) == 0 {
		return 0
	}
	config := p[0] >> 3
	var size uint32 // 48 kHz samples per frame
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		size = [4]uint32{480, 960, 1920, 2880}[config&3]
	case config < 16: // Hybrid: 10, 20 ms
		size = [2]uint32{480, 960}[config&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		size = [4]uint32{120, 240, 480, 960}[config&3]
	}
	switch p[0] & 3 {
	case 0:
		return size
	case 1, 2:
		return 2 * size
	}
	if len(p) < 2 {
		return 0
	}
	return uint32(p[1]&0x3f) * size
}
