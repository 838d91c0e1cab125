package flv

import (
	"math"
	"strconv"

	"github.com/ertmp/rtmp/amf0"
)

// MetaCodec is a codec id from onMetaData (videocodecid, audiocodecid): a
// legacy FLV codec id, or since Enhanced RTMP a FourCC carried as a number
// (e.g. "av01" == 1635135537.0). Some encoders send the FourCC as a string;
// AsString keeps that so the value re-encodes the same way.
type MetaCodec struct {
	Legacy   uint8  // legacy id (VideoCodecID or SoundFormat) when FourCC is zero
	FourCC   FourCC // the FourCC, zero for a legacy id
	AsString bool
}

func parseMetaCodec(v amf0.Value) (MetaCodec, bool) {
	if s, ok := asString(v); ok {
		f, ok := MakeFourCC(s)
		return MetaCodec{FourCC: f, AsString: true}, ok
	}
	n, ok := asNumber(v)
	if !ok || n < 0 || n > math.MaxUint32 || n != math.Trunc(n) {
		return MetaCodec{}, false
	}
	if n < 16 {
		return MetaCodec{Legacy: uint8(n)}, true
	}
	return MetaCodec{FourCC: FourCC(n)}, true
}

func (c MetaCodec) value() amf0.Value {
	switch {
	case c.FourCC != 0 && c.AsString:
		return c.FourCC.String()
	case c.FourCC != 0:
		return float64(c.FourCC)
	}
	return float64(c.Legacy)
}

func (c MetaCodec) isZero() bool { return c == MetaCodec{} }

// Metadata is a typed view of an onMetaData object (Enhanced RTMP v2,
// "Enhancing onMetaData"): the usual properties as fields, the per-track
// info maps, and every other property, in order, in Unknown.
//
// Track info maps hold one entry per additional track (ids 1, 2, ...); each
// entry's properties are parsed the same way, so a track's width is
// VideoTracks[i].Meta.Width and its channel count Meta.Channels.
type Metadata struct {
	Duration        float64
	FileSize        float64
	Width           float64
	Height          float64
	FrameRate       float64
	VideoDataRate   float64
	VideoCodec      MetaCodec
	AudioDataRate   float64
	AudioSampleRate float64
	AudioSampleSize float64
	AudioChannels   float64 // "audiochannels"
	AudioDelay      float64
	AudioCodec      MetaCodec
	Channels        float64 // "channels", used in audio track info maps
	SampleRate      float64 // "samplerate", used in audio track info maps
	Stereo          bool
	CanSeekToEnd    bool
	CreationDate    string
	Encoder         string

	VideoTracks []TrackMetadata // videoTrackIdInfoMap
	AudioTracks []TrackMetadata // audioTrackIdInfoMap

	// Unknown holds every property not above, in the order received.
	Unknown []amf0.Property

	// order lists the known keys in the order they arrived, so Properties
	// writes them back in that order.
	order []string
}

// TrackMetadata is one entry of a track info map.
type TrackMetadata struct {
	ID   uint8
	Meta *Metadata
}

// Keys of the typed fields.
const (
	keyVideoTracks = "videoTrackIdInfoMap"
	keyAudioTracks = "audioTrackIdInfoMap"
)

type numField struct {
	key string
	ptr func(*Metadata) *float64
}

var numFields = []numField{
	{"duration", func(m *Metadata) *float64 { return &m.Duration }},
	{"filesize", func(m *Metadata) *float64 { return &m.FileSize }},
	{"width", func(m *Metadata) *float64 { return &m.Width }},
	{"height", func(m *Metadata) *float64 { return &m.Height }},
	{"framerate", func(m *Metadata) *float64 { return &m.FrameRate }},
	{"videodatarate", func(m *Metadata) *float64 { return &m.VideoDataRate }},
	{"audiodatarate", func(m *Metadata) *float64 { return &m.AudioDataRate }},
	{"audiosamplerate", func(m *Metadata) *float64 { return &m.AudioSampleRate }},
	{"audiosamplesize", func(m *Metadata) *float64 { return &m.AudioSampleSize }},
	{"audiochannels", func(m *Metadata) *float64 { return &m.AudioChannels }},
	{"audiodelay", func(m *Metadata) *float64 { return &m.AudioDelay }},
	{"channels", func(m *Metadata) *float64 { return &m.Channels }},
	{"samplerate", func(m *Metadata) *float64 { return &m.SampleRate }},
}

// ParseMetadata builds the typed view of an onMetaData property list. A
// known key whose value has an unexpected type goes to Unknown unchanged.
func ParseMetadata(props []amf0.Property) *Metadata {
	m := &Metadata{}
	for _, p := range props {
		if m.set(p) {
			m.order = append(m.order, p.Key)
		} else {
			m.Unknown = append(m.Unknown, p)
		}
	}
	return m
}

func (m *Metadata) set(p amf0.Property) bool {
	for _, f := range numFields {
		if f.key == p.Key {
			n, ok := asNumber(p.Value)
			if ok {
				*f.ptr(m) = n
			}
			return ok
		}
	}
	var ok bool
	switch p.Key {
	case "videocodecid":
		m.VideoCodec, ok = parseMetaCodec(p.Value)
	case "audiocodecid":
		m.AudioCodec, ok = parseMetaCodec(p.Value)
	case "stereo":
		m.Stereo, ok = asBool(p.Value)
	case "canSeekToEnd":
		m.CanSeekToEnd, ok = asBool(p.Value)
	case "creationdate":
		m.CreationDate, ok = asString(p.Value)
	case "encoder":
		m.Encoder, ok = asString(p.Value)
	case keyVideoTracks:
		m.VideoTracks, ok = parseTrackMap(p.Value)
	case keyAudioTracks:
		m.AudioTracks, ok = parseTrackMap(p.Value)
	}
	return ok
}

func parseTrackMap(v amf0.Value) ([]TrackMetadata, bool) {
	props, ok := properties(v)
	if !ok {
		return nil, false
	}
	out := make([]TrackMetadata, 0, len(props))
	for _, p := range props {
		id, err := strconv.ParseUint(p.Key, 10, 8)
		sub, ok := properties(p.Value)
		if err != nil || !ok {
			return nil, false
		}
		out = append(out, TrackMetadata{ID: uint8(id), Meta: ParseMetadata(sub)})
	}
	return out, true
}

// present reports whether a known key has a value to write: it arrived in
// the parsed object, or its field is set now.
func (m *Metadata) present(key string) bool {
	for _, k := range m.order {
		if k == key {
			return true
		}
	}
	for _, f := range numFields {
		if f.key == key {
			return *f.ptr(m) != 0
		}
	}
	switch key {
	case "videocodecid":
		return !m.VideoCodec.isZero()
	case "audiocodecid":
		return !m.AudioCodec.isZero()
	case "stereo":
		return m.Stereo
	case "canSeekToEnd":
		return m.CanSeekToEnd
	case "creationdate":
		return m.CreationDate != ""
	case "encoder":
		return m.Encoder != ""
	case keyVideoTracks:
		return len(m.VideoTracks) > 0
	case keyAudioTracks:
		return len(m.AudioTracks) > 0
	}
	return false
}

func (m *Metadata) value(key string) amf0.Value {
	for _, f := range numFields {
		if f.key == key {
			return *f.ptr(m)
		}
	}
	switch key {
	case "videocodecid":
		return m.VideoCodec.value()
	case "audiocodecid":
		return m.AudioCodec.value()
	case "stereo":
		return m.Stereo
	case "canSeekToEnd":
		return m.CanSeekToEnd
	case "creationdate":
		return m.CreationDate
	case "encoder":
		return m.Encoder
	case keyVideoTracks:
		return trackMapValue(m.VideoTracks)
	case keyAudioTracks:
		return trackMapValue(m.AudioTracks)
	}
	return nil
}

func trackMapValue(ts []TrackMetadata) amf0.Value {
	o := make(amf0.Object, 0, len(ts))
	for _, t := range ts {
		o = append(o, amf0.Property{Key: strconv.Itoa(int(t.ID)), Value: amf0.Object(t.Meta.Properties())})
	}
	return o
}

// canonicalOrder is the order of known keys not in the parsed input.
var canonicalOrder = []string{
	"duration", "width", "height", "videodatarate", "framerate", "videocodecid",
	"audiodatarate", "audiosamplerate", "audiosamplesize", "audiochannels", "stereo",
	"audiocodecid", "audiodelay", "channels", "samplerate", keyVideoTracks, keyAudioTracks,
	"canSeekToEnd", "creationdate", "encoder", "filesize",
}

// Properties returns the property list for the current field values: known
// keys in the order they were parsed, then known keys set since, then Unknown.
func (m *Metadata) Properties() []amf0.Property {
	out := make([]amf0.Property, 0, len(m.order)+len(m.Unknown)+4)
	done := make(map[string]bool, len(canonicalOrder))
	for _, k := range m.order {
		if !done[k] {
			out = append(out, amf0.Property{Key: k, Value: m.value(k)})
			done[k] = true
		}
	}
	for _, k := range canonicalOrder {
		if !done[k] && m.present(k) {
			out = append(out, amf0.Property{Key: k, Value: m.value(k)})
		}
	}
	return append(out, m.Unknown...)
}

// ScriptData returns onMetaData with the properties as an ECMA array, the
// form FLV files and RTMP publishers use.
func (m *Metadata) ScriptData() ScriptData {
	props := m.Properties()
	return ScriptData{Name: OnMetaData, Args: []amf0.Value{amf0.NewECMAArray(props...)}}
}
