package amf0

import "math"

// common holds the names and values that RTMP commands and metadata repeat
// in every message. Decoding one of them returns the shared string, and the
// shared Value holding it, instead of allocating.
var common = func() map[string]interned {
	m := make(map[string]interned)
	for _, s := range []string{
		// NetConnection and NetStream commands (RTMP §7.2).
		"connect", "_result", "_error", "onStatus", "onBWDone", "close",
		"createStream", "deleteStream", "releaseStream", "FCPublish",
		"FCUnpublish", "onFCPublish", "onFCUnpublish", "publish", "play",
		"play2", "pause", "seek", "receiveAudio", "receiveVideo",
		"getStreamLength", "_checkbw", "call",
		// connect command object and its answer.
		"app", "type", "flashVer", "swfUrl", "tcUrl", "fpad", "capabilities",
		"audioCodecs", "videoCodecs", "videoFunction", "pageUrl",
		"objectEncoding", "fourCcList", "capsEx", "videoFourCcInfoMap",
		"audioFourCcInfoMap", "nonprivate", "fmsVer", "mode", "level", "code",
		"description", "details", "clientid", "data", "version", "status",
		"error", "live", "record", "append",
		// Enhanced RTMP FourCCs.
		"avc1", "hvc1", "vp08", "vp09", "av01", "Opus", "mp4a", "fLaC", "ac-3",
		"ec-3", ".mp3",
		// Data messages and onMetaData.
		"@setDataFrame", "@clearDataFrame", "onMetaData", "onTextData",
		"onCuePoint", "|RtmpSampleAccess", "duration", "width", "height",
		"videodatarate", "framerate", "videocodecid", "audiodatarate",
		"audiosamplerate", "audiosamplesize", "stereo", "audiocodecid",
		"encoder", "filesize", "fps", "profile", "videokeyframe_frequency",
		"audiochannels", "2.1", "3.1", "4.0", "4.1", "5.1", "7.1",
		"hasVideo", "hasAudio", "hasMetadata", "hasKeyframes", "canSeekToEnd",
		"creationdate", "metadatacreator", "keyframes", "times",
		"filepositions", "lasttimestamp", "lastkeyframetimestamp",
		"datasize", "videosize", "audiosize", "major_brand", "minor_version",
		"compatible_brands", "audioTrackIdInfoMap", "videoTrackIdInfoMap",
	} {
		m[s] = interned{s: s, v: s}
	}
	return m
}()

type interned struct {
	s string
	v Value
}

// intern returns b as a string, shared for the common names.
func intern(b []byte) string {
	if len(b) <= 32 {
		if c, ok := common[string(b)]; ok {
			return c.s
		}
	}
	return string(b)
}

// internValue returns b as a string in a Value, shared for the common names.
func internValue(b []byte) Value {
	if len(b) <= 32 {
		if c, ok := common[string(b)]; ok {
			return c.v
		}
	}
	return string(b)
}

// smallNumbers holds the numbers 0 to 255 in Values: transaction ids,
// capabilities and metadata such as frame rates decode without allocating.
var smallNumbers = func() (t [256]Value) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// number returns f in a Value.
func number(f float64) Value {
	if f >= 0 && f < 256 && !math.Signbit(f) {
		if i := int(f); float64(i) == f {
			return smallNumbers[i]
		}
	}
	return f
}
