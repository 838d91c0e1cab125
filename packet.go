package rtmp

import (
	"errors"

	"github.com/ertmp/rtmp/codecinfo"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// The helpers below read a packet's FLV tag header in place: they do not
// allocate and do not keep the payload. A payload too short or malformed
// for its header reads as no key frame, no sequence header, no codec.

// IsKeyFrame reports a video key frame that carries coded picture data,
// legacy or Enhanced RTMP (multitrack included): where a player can start
// decoding. Sequence headers, sequence ends, metadata and command frames
// are not key frames, and neither is audio.
func (p Packet) IsKeyFrame() bool {
	if p.Type != message.TypeVideo {
		return false
	}
	var v flv.VideoTag
	return v.Unmarshal(p.Payload) == nil && v.IsKeyFrame()
}

// IsSequenceHeader reports a decoder configuration: a legacy AVC or AAC
// sequence header, or an Enhanced RTMP SequenceStart (video
// MPEG2TSSequenceStart too), of one track or of a multitrack tag.
func (p Packet) IsSequenceHeader() bool {
	switch p.Type {
	case message.TypeVideo:
		var v flv.VideoTag
		return v.Unmarshal(p.Payload) == nil && v.IsSequenceHeader()
	case message.TypeAudio:
		var a flv.AudioTag
		return a.Unmarshal(p.Payload) == nil && a.IsSequenceHeader()
	}
	return false
}

// Codec returns the codec of an audio or video packet as its Enhanced RTMP
// FourCC: the FourCC of an enhanced tag, and for a legacy tag the FourCC of
// the same codec where Enhanced RTMP has one: AVC is avc1 (flv.FourCCAVC),
// AAC is mp4a (flv.FourCCAAC), MP3 (and MP3 8 kHz) is .mp3 (flv.FourCCMP3).
//
// It returns zero for the legacy codecs with no FourCC (Sorenson H.263,
// Screen video, VP6; PCM, ADPCM, Nellymoser, G.711, Speex: read them from
// the flv.VideoTag's CodecID or the flv.AudioTag's SoundFormat), for a
// multitrack tag of ManyTracksManyCodecs (each track names its own, see
// flv.VideoTag.Tracks), for the zero-length audio silence message, and for
// packets that are not audio or video.
func (p Packet) Codec() flv.FourCC {
	switch p.Type {
	case message.TypeVideo:
		var v flv.VideoTag
		if v.Unmarshal(p.Payload) == nil {
			return v.Codec()
		}
	case message.TypeAudio:
		var a flv.AudioTag
		if a.Unmarshal(p.Payload) == nil {
			return a.Codec()
		}
	}
	return 0
}

// Tag returns the packet as an FLV tag: audio, video, and data (script
// data, AMF0 or AMF3; FLV's tag type equals the RTMP message type), at the
// packet's timestamp. The tag's Data is the packet's Payload, not a copy.
// ok is false for commands, shared objects, aggregates and control
// messages, which FLV has no tag for.
func (p Packet) Tag() (tag flv.Tag, ok bool) {
	switch p.Type {
	case message.TypeAudio, message.TypeVideo, message.TypeDataAMF0, message.TypeDataAMF3:
		return flv.Tag{Type: flv.TagType(p.Type), Timestamp: p.Timestamp, Data: p.Payload}, true
	}
	return flv.Tag{}, false
}

// ErrNoCodecInfo is returned by VideoInfo and AudioInfo for a packet that
// carries no codec parameters they read.
var ErrNoCodecInfo = errors.New("rtmp: the packet carries no codec parameters")

// VideoInfo reads the codec parameters a video packet carries, for logging
// "h264 High 1280x720" and the like: the configuration record of a sequence
// header (legacy AVC; Enhanced RTMP avc1, hvc1, vvc1, av01, vp09, vp08), or
// the frame header of a VP8 or VP9 key frame, whose record has no picture
// size. Of a multitrack tag it reads the first track. Other packets give
// ErrNoCodecInfo; a malformed one the flv or codecinfo error, and a
// sequence header of another codec one wrapping codecinfo.ErrUnsupported.
func (p Packet) VideoInfo() (codecinfo.Video, error) {
	if p.Type != message.TypeVideo {
		return codecinfo.Video{}, ErrNoCodecInfo
	}
	var v flv.VideoTag
	if err := v.Unmarshal(p.Payload); err != nil {
		return codecinfo.Video{}, err
	}
	tr, err := firstTrack(v.Tracks())
	if err != nil {
		return codecinfo.Video{}, err
	}
	switch {
	case v.IsSequenceHeader() && v.PacketType != flv.VideoMPEG2TSSequenceStart:
		return codecinfo.ParseVideoConfig(tr.FourCC, tr.Data)
	case v.IsKeyFrame() && (tr.FourCC == flv.FourCCVP8 || tr.FourCC == flv.FourCCVP9):
		return codecinfo.ParseVideoKeyframe(tr.FourCC, tr.Data)
	}
	return codecinfo.Video{}, ErrNoCodecInfo
}

// AudioInfo reads the codec parameters an audio packet carries: the
// configuration of a sequence header (legacy AAC; Enhanced RTMP mp4a, Opus,
// fLaC), or the frame header of a coded frame of the codecs that have no
// configuration record (ac-3, ec-3, .mp3 and legacy MP3). Of a multitrack
// tag it reads the first track. Other packets give ErrNoCodecInfo; a
// malformed one the flv or codecinfo error.
func (p Packet) AudioInfo() (codecinfo.Audio, error) {
	if p.Type != message.TypeAudio {
		return codecinfo.Audio{}, ErrNoCodecInfo
	}
	var a flv.AudioTag
	if err := a.Unmarshal(p.Payload); err != nil {
		return codecinfo.Audio{}, err
	}
	tr, err := firstTrack(a.Tracks())
	if err != nil {
		return codecinfo.Audio{}, err
	}
	switch {
	case a.IsSequenceHeader():
		return codecinfo.ParseAudioConfig(tr.FourCC, tr.Data)
	case a.Enhanced() && a.PacketType != flv.AudioCodedFrames:
	case tr.FourCC == flv.FourCCAC3, tr.FourCC == flv.FourCCEAC3, tr.FourCC == flv.FourCCMP3:
		return codecinfo.ParseAudioFrame(tr.FourCC, tr.Data)
	}
	return codecinfo.Audio{}, ErrNoCodecInfo
}

func firstTrack(it flv.TrackIter) (flv.Track, error) {
	if it.Next() {
		return it.Track(), nil
	}
	if err := it.Err(); err != nil {
		return flv.Track{}, err
	}
	return flv.Track{}, ErrNoCodecInfo
}
