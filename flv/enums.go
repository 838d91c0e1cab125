package flv

import "strconv"

// TagType is the FLV tag type (FLV 10.1 §E.4.1, the low five bits of the
// first tag byte). It equals the RTMP message type id of the same content.
type TagType uint8

// Tag types. TagScriptAMF3 is Enhanced RTMP's "Enabling AMF3 in FLV".
const (
	TagAudio      TagType = 8
	TagVideo      TagType = 9
	TagScriptAMF3 TagType = 15
	TagScript     TagType = 18
)

func (t TagType) String() string {
	switch t {
	case TagAudio:
		return "audio"
	case TagVideo:
		return "video"
	case TagScript:
		return "script"
	case TagScriptAMF3:
		return "script-amf3"
	}
	return "tagtype(" + strconv.Itoa(int(t)) + ")"
}

// SoundFormat is the UB[4] at the top of the first audio byte (FLV 10.1
// §E.4.2.1; Enhanced RTMP v2 enum SoundFormat).
type SoundFormat uint8

// Sound formats.
const (
	SoundLPCMPlatformEndian SoundFormat = 0
	SoundADPCM              SoundFormat = 1
	SoundMP3                SoundFormat = 2
	SoundLPCMLittleEndian   SoundFormat = 3
	SoundNellymoser16kMono  SoundFormat = 4
	SoundNellymoser8kMono   SoundFormat = 5
	SoundNellymoser         SoundFormat = 6
	SoundG711ALaw           SoundFormat = 7
	SoundG711MuLaw          SoundFormat = 8
	SoundExHeader           SoundFormat = 9 // Enhanced RTMP: FourCC audio mode
	SoundAAC                SoundFormat = 10
	SoundSpeex              SoundFormat = 11
	SoundMP38k              SoundFormat = 14
	SoundDeviceSpecific     SoundFormat = 15
)

var soundFormatNames = [16]string{
	"lpcm-platform-endian", "adpcm", "mp3", "lpcm-le", "nellymoser-16k-mono",
	"nellymoser-8k-mono", "nellymoser", "g711-alaw", "g711-mulaw", "exheader",
	"aac", "speex", "reserved-12", "reserved-13", "mp3-8k", "device-specific",
}

func (f SoundFormat) String() string {
	if int(f) < len(soundFormatNames) {
		return soundFormatNames[f]
	}
	return "soundformat(" + strconv.Itoa(int(f)) + ")"
}

// SoundRate is the legacy UB[2] sampling rate code (FLV 10.1 §E.4.2.1).
type SoundRate uint8

// Sound rates.
const (
	SoundRate5k5 SoundRate = 0
	SoundRate11k SoundRate = 1
	SoundRate22k SoundRate = 2
	SoundRate44k SoundRate = 3
)

// Hz returns the nominal rate in Hz (5512, 11025, 22050, 44100).
func (r SoundRate) Hz() int { return [4]int{5512, 11025, 22050, 44100}[r&3] }

// SoundSize is the legacy UB[1] sample size: 0 = 8-bit, 1 = 16-bit.
type SoundSize uint8

// SoundType is the legacy UB[1] channel layout: 0 = mono, 1 = stereo.
type SoundType uint8

// AACPacketType follows the first byte of a legacy AAC tag (FLV 10.1 §E.4.2.1).
type AACPacketType uint8

// AAC packet types.
const (
	AACSequenceHeader AACPacketType = 0
	AACRaw            AACPacketType = 1
)

func (t AACPacketType) String() string {
	switch t {
	case AACSequenceHeader:
		return "sequence-header"
	case AACRaw:
		return "raw"
	}
	return "aacpackettype(" + strconv.Itoa(int(t)) + ")"
}

// AudioPacketType is the UB[4] after SoundFormat 9 (Enhanced RTMP v2 enum
// AudioPacketType). Values the spec reserves are kept as they are.
type AudioPacketType uint8

// Audio packet types.
const (
	AudioSequenceStart      AudioPacketType = 0
	AudioCodedFrames        AudioPacketType = 1
	AudioSequenceEnd        AudioPacketType = 2
	AudioMultichannelConfig AudioPacketType = 4
	AudioMultitrack         AudioPacketType = 5
	AudioModEx              AudioPacketType = 7
)

func (t AudioPacketType) String() string {
	switch t {
	case AudioSequenceStart:
		return "sequence-start"
	case AudioCodedFrames:
		return "coded-frames"
	case AudioSequenceEnd:
		return "sequence-end"
	case AudioMultichannelConfig:
		return "multichannel-config"
	case AudioMultitrack:
		return "multitrack"
	case AudioModEx:
		return "modex"
	}
	return "audiopackettype(" + strconv.Itoa(int(t)) + ")"
}

// VideoFrameType is the frame type: UB[4] in a legacy header, UB[3] after
// the IsExVideoHeader bit in an enhanced one (FLV 10.1 §E.4.3.1; Enhanced
// RTMP v2 enum VideoFrameType).
type VideoFrameType uint8

// Video frame types.
const (
	FrameKey             VideoFrameType = 1
	FrameInter           VideoFrameType = 2
	FrameDisposableInter VideoFrameType = 3
	FrameGeneratedKey    VideoFrameType = 4
	FrameCommand         VideoFrameType = 5
)

func (t VideoFrameType) String() string {
	switch t {
	case FrameKey:
		return "key"
	case FrameInter:
		return "inter"
	case FrameDisposableInter:
		return "disposable-inter"
	case FrameGeneratedKey:
		return "generated-key"
	case FrameCommand:
		return "command"
	}
	return "frametype(" + strconv.Itoa(int(t)) + ")"
}

// VideoCodecID is the legacy UB[4] codec id (FLV 10.1 §E.4.3.1).
type VideoCodecID uint8

// Legacy video codec ids.
const (
	CodecJPEG         VideoCodecID = 1 // FLV 10.1 lists it as JPEG (currently unused)
	CodecSorensonH263 VideoCodecID = 2
	CodecScreen       VideoCodecID = 3
	CodecVP6          VideoCodecID = 4
	CodecVP6Alpha     VideoCodecID = 5
	CodecScreenV2     VideoCodecID = 6
	CodecAVC          VideoCodecID = 7
)

func (c VideoCodecID) String() string {
	switch c {
	case CodecJPEG:
		return "jpeg"
	case CodecSorensonH263:
		return "sorenson-h263"
	case CodecScreen:
		return "screen"
	case CodecVP6:
		return "vp6"
	case CodecVP6Alpha:
		return "vp6-alpha"
	case CodecScreenV2:
		return "screen-v2"
	case CodecAVC:
		return "avc"
	}
	return "codecid(" + strconv.Itoa(int(c)) + ")"
}

// AVCPacketType follows the first byte of a legacy AVC tag (FLV 10.1 §E.4.3.1).
type AVCPacketType uint8

// AVC packet types.
const (
	AVCSequenceHeader AVCPacketType = 0
	AVCNALU           AVCPacketType = 1
	AVCEndOfSequence  AVCPacketType = 2
)

func (t AVCPacketType) String() string {
	switch t {
	case AVCSequenceHeader:
		return "sequence-header"
	case AVCNALU:
		return "nalu"
	case AVCEndOfSequence:
		return "end-of-sequence"
	}
	return "avcpackettype(" + strconv.Itoa(int(t)) + ")"
}

// VideoPacketType is the UB[4] after the IsExVideoHeader bit and frame type
// (Enhanced RTMP v2 enum VideoPacketType). Reserved values are kept.
type VideoPacketType uint8

// Video packet types.
const (
	VideoSequenceStart        VideoPacketType = 0
	VideoCodedFrames          VideoPacketType = 1
	VideoSequenceEnd          VideoPacketType = 2
	VideoCodedFramesX         VideoPacketType = 3 // composition time implied zero
	VideoMetadata             VideoPacketType = 4
	VideoMPEG2TSSequenceStart VideoPacketType = 5
	VideoMultitrack           VideoPacketType = 6
	VideoModEx                VideoPacketType = 7
)

func (t VideoPacketType) String() string {
	switch t {
	case VideoSequenceStart:
		return "sequence-start"
	case VideoCodedFrames:
		return "coded-frames"
	case VideoSequenceEnd:
		return "sequence-end"
	case VideoCodedFramesX:
		return "coded-frames-x"
	case VideoMetadata:
		return "metadata"
	case VideoMPEG2TSSequenceStart:
		return "mpeg2ts-sequence-start"
	case VideoMultitrack:
		return "multitrack"
	case VideoModEx:
		return "modex"
	}
	return "videopackettype(" + strconv.Itoa(int(t)) + ")"
}

// VideoCommand is the UI8 of a command frame (Enhanced RTMP v2 enum VideoCommand).
type VideoCommand uint8

// Video commands.
const (
	CommandStartSeek VideoCommand = 0
	CommandEndSeek   VideoCommand = 1
)

func (c VideoCommand) String() string {
	switch c {
	case CommandStartSeek:
		return "start-seek"
	case CommandEndSeek:
		return "end-seek"
	}
	return "videocommand(" + strconv.Itoa(int(c)) + ")"
}

// MultitrackType is the UB[4] after a Multitrack packet type (Enhanced RTMP
// v2 enum AvMultitrackType), shared by audio and video.
type MultitrackType uint8

// Multitrack types.
const (
	OneTrack             MultitrackType = 0
	ManyTracks           MultitrackType = 1
	ManyTracksManyCodecs MultitrackType = 2
)

func (t MultitrackType) String() string {
	switch t {
	case OneTrack:
		return "one-track"
	case ManyTracks:
		return "many-tracks"
	case ManyTracksManyCodecs:
		return "many-tracks-many-codecs"
	}
	return "multitracktype(" + strconv.Itoa(int(t)) + ")"
}
