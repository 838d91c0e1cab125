package probe

import (
	"github.com/ertmp/rtmp/flv"
)

// Codec names follow FFmpeg's, so a report lines up with ffprobe's.

func videoCodec(f flv.FourCC) string {
	switch f {
	case flv.FourCCAVC:
		return "h264"
	case flv.FourCCHEVC:
		return "hevc"
	case flv.FourCCVVC:
		return "vvc"
	case flv.FourCCAV1:
		return "av1"
	case flv.FourCCVP9:
		return "vp9"
	case flv.FourCCVP8:
		return "vp8"
	}
	return f.String()
}

func audioCodec(f flv.FourCC) string {
	switch f {
	case flv.FourCCAAC:
		return "aac"
	case flv.FourCCMP3:
		return "mp3"
	case flv.FourCCOpus:
		return "opus"
	case flv.FourCCFLAC:
		return "flac"
	case flv.FourCCAC3:
		return "ac3"
	case flv.FourCCEAC3:
		return "eac3"
	}
	return f.String()
}

func legacyVideoCodec(id flv.VideoCodecID) string {
	switch id {
	case flv.CodecJPEG:
		return "mjpeg"
	case flv.CodecSorensonH263:
		return "flv1"
	case flv.CodecScreen:
		return "flashsv"
	case flv.CodecVP6:
		return "vp6f"
	case flv.CodecVP6Alpha:
		return "vp6a"
	case flv.CodecScreenV2:
		return "flashsv2"
	case flv.CodecAVC:
		return "h264"
	}
	return id.String()
}

func legacyAudioCodec(a *flv.AudioTag) string {
	switch a.SoundFormat {
	case flv.SoundLPCMPlatformEndian, flv.SoundLPCMLittleEndian:
		if a.SoundSize == 0 {
			return "pcm_u8"
		}
		return "pcm_s16le"
	case flv.SoundADPCM:
		return "adpcm_swf"
	case flv.SoundMP3, flv.SoundMP38k:
		return "mp3"
	case flv.SoundNellymoser16kMono, flv.SoundNellymoser8kMono, flv.SoundNellymoser:
		return "nellymoser"
	case flv.SoundG711ALaw:
		return "pcm_alaw"
	case flv.SoundG711MuLaw:
		return "pcm_mulaw"
	case flv.SoundAAC:
		return "aac"
	case flv.SoundSpeex:
		return "speex"
	}
	return a.SoundFormat.String()
}

// legacyRate is the sample rate a legacy header implies, with the fixed
// rates of the formats that ignore SoundRate.
func legacyRate(a *flv.AudioTag) int {
	switch a.SoundFormat {
	case flv.SoundNellymoser16kMono, flv.SoundSpeex:
		return 16000
	case flv.SoundNellymoser8kMono, flv.SoundG711ALaw, flv.SoundG711MuLaw, flv.SoundMP38k:
		return 8000
	}
	return a.SoundRate.Hz()
}
