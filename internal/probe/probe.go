// Package probe builds the report of `ertmp probe`: the streams and tracks of
// an FLV file or RTMP stream, their codecs and parameters, tag and packet
// counts, duration and metadata. It consumes tags one at a time, so the same
// code serves files and live streams.
package probe

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ertmp/rtmp/codecinfo"
	"github.com/ertmp/rtmp/flv"
)

// Report is what probe prints; its JSON form is the -json output.
type Report struct {
	Source string `json:"source"`
	// Format is set for files.
	Format *Format `json:"format,omitempty"`
	// Duration is the media time covered by audio and video tags, in seconds.
	Duration float64 `json:"duration"`
	// Tags counts tags (files) or messages (streams) by type.
	Tags map[string]int `json:"tags"`
	// Streams lists each audio or video track in order of first appearance.
	Streams []*Stream `json:"streams"`
	// Metadata is the last onMetaData, properties in order.
	Metadata Object `json:"metadata,omitempty"`
	// Errors lists tags that did not parse (the probe goes on past them).
	Errors []string `json:"errors,omitempty"`
}

// Format describes an FLV file header.
type Format struct {
	Version  uint8 `json:"version"`
	HasAudio bool  `json:"has_audio"`
	HasVideo bool  `json:"has_video"`
	Size     int64 `json:"size"`
}

// Stream is one audio or video track.
type Stream struct {
	Index int    `json:"index"`
	Type  string `json:"type"` // "audio" or "video"
	// TrackID is the Enhanced RTMP track id; 0 for a stream that is not multitrack.
	TrackID    int    `json:"track_id"`
	Multitrack bool   `json:"multitrack"`
	Codec      string `json:"codec"`
	FourCC     string `json:"fourcc,omitempty"`
	// LegacyID is the FLV 10.1 codec id or sound format of a legacy stream.
	LegacyID *int `json:"legacy_id,omitempty"`

	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	Profile    string `json:"profile,omitempty"`
	Level      int    `json:"level,omitempty"`
	BitDepth   int    `json:"bit_depth,omitempty"`
	SampleRate int    `json:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty"`
	HDR        bool   `json:"hdr_metadata,omitempty"`

	// Packets counts coded frames that carry data: what a demuxer returns as
	// packets (sequence headers, metadata, commands and empty frames are not
	// packets). PacketBytes is their payload size.
	Packets     int   `json:"packets"`
	PacketBytes int64 `json:"packet_bytes"`
	KeyFrames   int   `json:"key_frames,omitempty"`
	// Bytes counts every payload byte of the stream's tags.
	Bytes int64 `json:"bytes"`
	// PacketTypes counts tags by packet type name.
	PacketTypes map[string]int `json:"packet_types"`
	FirstTime   uint32         `json:"first_timestamp_ms"`
	LastTime    uint32         `json:"last_timestamp_ms"`

	seen bool
}

// Property is one metadata entry; Value is a JSON-friendly rendering.
type Property struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// Prober accumulates tags into a Report. Not safe for concurrent use.
type Prober struct {
	r        Report
	byKey    map[streamKey]*Stream
	minTime  uint32
	maxTime  uint32
	anyMedia bool
}

type streamKey struct {
	video bool
	track uint8
}

// New returns a Prober for a source (a file name or URL).
func New(source string) *Prober {
	return &Prober{r: Report{Source: source, Tags: map[string]int{}, Streams: []*Stream{}}, byKey: map[streamKey]*Stream{}}
}

// SetFormat records an FLV file header and the file size.
func (p *Prober) SetFormat(h flv.Header, size int64) {
	p.r.Format = &Format{Version: h.Version, HasAudio: h.HasAudio(), HasVideo: h.HasVideo(), Size: size}
}

// Add takes one tag (or RTMP message of the same type).
func (p *Prober) Add(typ flv.TagType, ts uint32, data []byte) {
	p.r.Tags[typ.String()]++
	switch typ {
	case flv.TagVideo:
		var v flv.VideoTag
		if err := v.Unmarshal(data); err != nil {
			p.errorf("video tag at %d ms: %v", ts, err)
			return
		}
		p.media(ts)
		p.video(&v, ts)
	case flv.TagAudio:
		var a flv.AudioTag
		if err := a.Unmarshal(data); err != nil {
			p.errorf("audio tag at %d ms: %v", ts, err)
			return
		}
		p.media(ts)
		p.audio(&a, ts)
	case flv.TagScript, flv.TagScriptAMF3:
		var s flv.ScriptData
		var err error
		if typ == flv.TagScript {
			s, err = flv.ParseScript(data)
		} else {
			s, err = flv.ParseScriptAMF3(data)
		}
		if err != nil {
			p.errorf("script tag at %d ms: %v", ts, err)
			return
		}
		if m, ok := s.Metadata(); ok {
			p.r.Metadata = jsonProps(m.Properties())
		}
	}
}

func (p *Prober) errorf(format string, args ...any) {
	if len(p.r.Errors) < 100 {
		p.r.Errors = append(p.r.Errors, fmt.Sprintf(format, args...))
	}
}

func (p *Prober) media(ts uint32) {
	if !p.anyMedia || ts < p.minTime {
		p.minTime = ts
	}
	if !p.anyMedia || ts > p.maxTime {
		p.maxTime = ts
	}
	p.anyMedia = true
}

func (p *Prober) stream(video bool, track uint8, multitrack bool) *Stream {
	k := streamKey{video, track}
	s := p.byKey[k]
	if s == nil {
		s = &Stream{Index: len(p.r.Streams), Type: "audio", TrackID: int(track), PacketTypes: map[string]int{}}
		if video {
			s.Type = "video"
		}
		p.byKey[k] = s
		p.r.Streams = append(p.r.Streams, s)
	}
	s.Multitrack = s.Multitrack || multitrack
	return s
}

func (s *Stream) count(ts uint32, n int, packetType string, packet bool) {
	if !s.seen || ts < s.FirstTime {
		s.FirstTime = ts
	}
	if ts > s.LastTime {
		s.LastTime = ts
	}
	s.seen = true
	s.PacketTypes[packetType]++
	s.Bytes += int64(n)
	if packet && n > 0 {
		s.Packets++
		s.PacketBytes += int64(n)
	}
}

func (p *Prober) video(v *flv.VideoTag, ts uint32) {
	if !v.Enhanced {
		s := p.stream(true, 0, false)
		id := int(v.CodecID)
		s.LegacyID = &id
		s.Codec = legacyVideoCodec(v.CodecID)
		if v.CodecID == flv.CodecAVC {
			s.FourCC = flv.FourCCAVC.String()
		}
		typ := v.FrameType.String()
		packet := !v.HasCommand
		switch {
		case v.HasCommand:
			typ = "command"
		case v.CodecID == flv.CodecAVC:
			typ = v.AVCPacketType.String()
			packet = v.AVCPacketType == flv.AVCNALU
			if v.AVCPacketType == flv.AVCSequenceHeader {
				p.videoConfig(s, flv.FourCCAVC, v.Data)
			}
		}
		s.count(ts, len(v.Data), typ, packet)
		if packet && v.FrameType == flv.FrameKey {
			s.KeyFrames++
			if w, h, ok := legacyVideoSize(v.CodecID, v.Data); ok && s.Width == 0 {
				s.Width, s.Height = w, h
			}
		}
		return
	}
	if v.HasCommand {
		// A command frame belongs to no track; count it on the default one.
		s := p.stream(true, 0, false)
		s.count(ts, 0, "command", false)
		return
	}
	it := v.Tracks()
	for it.Next() {
		tr := it.Track()
		s := p.stream(true, tr.ID, v.Multitrack)
		setFourCC(s, tr.FourCC, videoCodec)
		packet := v.PacketType == flv.VideoCodedFrames || v.PacketType == flv.VideoCodedFramesX
		switch v.PacketType {
		case flv.VideoSequenceStart:
			p.videoConfig(s, tr.FourCC, tr.Data)
		case flv.VideoMetadata:
			if _, err := flv.ParseColorInfo(tr.Data); err == nil {
				s.HDR = true
			}
		case flv.VideoCodedFrames, flv.VideoCodedFramesX:
			if v.FrameType == flv.FrameKey {
				s.KeyFrames++
				if s.Width == 0 {
					p.keyframeSize(s, tr.FourCC, tr.Data)
				}
			}
		}
		s.count(ts, len(tr.Data), v.PacketType.String(), packet)
	}
	if err := it.Err(); err != nil {
		p.errorf("video tag at %d ms: %v", ts, err)
	}
}

func (p *Prober) audio(a *flv.AudioTag, ts uint32) {
	if a.Silence {
		s := p.stream(false, 0, false)
		s.count(ts, 0, "silence", false)
		return
	}
	if !a.Enhanced() {
		s := p.stream(false, 0, false)
		id := int(a.SoundFormat)
		s.LegacyID = &id
		s.Codec = legacyAudioCodec(a)
		if s.SampleRate == 0 && a.SoundFormat != flv.SoundAAC {
			s.SampleRate = legacyRate(a)
			s.Channels = int(a.SoundType) + 1
		}
		typ, packet := "frames", true
		if a.SoundFormat == flv.SoundAAC {
			s.FourCC = flv.FourCCAAC.String()
			typ = a.AACPacketType.String()
			packet = a.AACPacketType == flv.AACRaw
			if a.AACPacketType == flv.AACSequenceHeader {
				p.audioConfig(s, flv.FourCCAAC, a.Data)
			}
		}
		s.count(ts, len(a.Data), typ, packet)
		return
	}
	it := a.Tracks()
	for it.Next() {
		tr := it.Track()
		s := p.stream(false, tr.ID, a.Multitrack)
		setFourCC(s, tr.FourCC, audioCodec)
		switch a.PacketType {
		case flv.AudioSequenceStart:
			p.audioConfig(s, tr.FourCC, tr.Data)
		case flv.AudioMultichannelConfig:
			var c flv.MultichannelConfig
			if err := c.Unmarshal(tr.Data); err == nil && c.ChannelCount > 0 {
				s.Channels = int(c.ChannelCount)
			}
		case flv.AudioCodedFrames:
			if s.SampleRate == 0 {
				p.audioFrame(s, tr.FourCC, tr.Data)
			}
		}
		s.count(ts, len(tr.Data), a.PacketType.String(), a.PacketType == flv.AudioCodedFrames)
	}
	if err := it.Err(); err != nil {
		p.errorf("audio tag at %d ms: %v", ts, err)
	}
}

func setFourCC(s *Stream, f flv.FourCC, name func(flv.FourCC) string) {
	if f == 0 {
		return
	}
	s.FourCC = f.String()
	s.Codec = name(f)
}

func (p *Prober) videoConfig(s *Stream, f flv.FourCC, b []byte) {
	if len(b) == 0 {
		return
	}
	v, err := codecinfo.ParseVideoConfig(f, b)
	if errors.Is(err, codecinfo.ErrUnsupported) {
		return
	}
	if err != nil {
		p.errorf("%s %s sequence header: %v", s.Type, f, err)
		return
	}
	applyVideo(s, v)
}

func applyVideo(s *Stream, v codecinfo.Video) {
	if v.Width > 0 && v.Height > 0 {
		s.Width, s.Height = v.Width, v.Height
	}
	if v.Profile != "" {
		s.Profile = v.Profile
	}
	if v.Level != 0 {
		s.Level = v.Level
	}
	if v.BitDepth != 0 {
		s.BitDepth = v.BitDepth
	}
}

// keyframeSize reads the picture size from a key frame for codecs whose
// configuration record does not carry it.
func (p *Prober) keyframeSize(s *Stream, f flv.FourCC, b []byte) {
	var v codecinfo.Video
	var err error
	if f == flv.FourCCAV1 {
		v, err = codecinfo.ParseAV1SequenceHeader(b)
	} else {
		v, err = codecinfo.ParseVideoKeyframe(f, b)
	}
	if err == nil {
		applyVideo(s, v)
	}
}

func (p *Prober) audioConfig(s *Stream, f flv.FourCC, b []byte) {
	if len(b) == 0 {
		return
	}
	a, err := codecinfo.ParseAudioConfig(f, b)
	if errors.Is(err, codecinfo.ErrUnsupported) {
		return
	}
	if err != nil {
		p.errorf("%s %s sequence header: %v", s.Type, f, err)
		return
	}
	applyAudio(s, a)
}

func (p *Prober) audioFrame(s *Stream, f flv.FourCC, b []byte) {
	if a, err := codecinfo.ParseAudioFrame(f, b); err == nil {
		applyAudio(s, a)
	}
}

func applyAudio(s *Stream, a codecinfo.Audio) {
	if a.SampleRate > 0 {
		s.SampleRate = a.SampleRate
	}
	if a.Channels > 0 && s.Channels == 0 {
		s.Channels = a.Channels
	}
	if a.Profile != "" {
		s.Profile = a.Profile
	}
	if a.BitDepth != 0 {
		s.BitDepth = a.BitDepth
	}
}

// Report returns the report so far.
func (p *Prober) Report() *Report {
	r := p.r
	if p.anyMedia {
		r.Duration = float64(p.maxTime-p.minTime) / 1000
	}
	sort.SliceStable(r.Streams, func(i, j int) bool { return r.Streams[i].Index < r.Streams[j].Index })
	return &r
}
