package live

import (
	"sync"
	"sync/atomic"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// pflags describe a Packet for the queue policy and track selection.
type pflags uint16

const (
	// fVideo: a video message. Together with fConfig clear, it is video the
	// drop policy may skip.
	fVideo pflags = 1 << iota
	// fKey: a key frame of the default track (track 0): where a GOP starts
	// and where a player that skipped video resumes.
	fKey
	// fConfig: a decoder configuration or other Packet every player needs
	// whatever it skipped: sequence start/end, codec metadata, multichannel
	// config, command frames, and data messages.
	fConfig
	// fEnhanced: an Enhanced RTMP tag (ExVideoTagHeader, ExAudioTagHeader).
	fEnhanced
	// fMultitrack: an Enhanced RTMP multitrack tag.
	fMultitrack
	// fManyCodecs: a multitrack tag with more distinct codecs than codecs
	// holds; only players that take any codec ("*") get it whole.
	fManyCodecs
	// fJoin: a kept header or data frame restamped for a new subscriber.
	fJoin
	// fTrack0: a multitrack tag with a track 0 (altPacket).
	fTrack0
	// fLegacy: an enhanced tag (or its track 0) whose codec has a legacy
	// form (legacyPacket).
	fLegacy
)

// Bits of Packet.tried.
const (
	triedAlt = 1 << iota
	triedLegacy
)

// maxCodecs is how many distinct FourCCs a packet records.
const maxCodecs = 4

// Packet is one message of a stream as subscribers get it, in a
// protocol-neutral view: type, timestamp on the stream's time line,
// payload (an FLV tag body: audio, video or script data) and what the hub
// learnt of it (key frame, decoder configuration, codecs, track). It is
// immutable once published and shared by reference by the GOP cache and
// every queue holding it, never copied: a subscriber must not modify it.
//
// Its encodings for outputs (chunked RTMP at a chunk size, an FLV tag,
// ...) are made once per packet and format and shared by every subscriber
// of that format (Bytes, Prepared).
type Packet struct {
	typ     message.Type
	ts      uint32 // the stream's output time, as the wire's 32 bits
	payload []byte
	flags   pflags
	// codecs are the FourCCs of an enhanced tag (one for a single-track
	// tag, one per distinct codec for a multitrack tag).
	codecs  [maxCodecs]flv.FourCC
	ncodecs uint8
	// alt and legacy are the other forms of an enhanced tag, made on first
	// use under the stream's mutex (altPacket, legacyPacket); tried says
	// which were attempted. (flags never change once published: readers
	// see them without a lock.)
	alt, legacy *Packet
	tried       uint8
	// hkey identifies a configuration packet's slot among the stream's
	// kept headers (type, packet type, track).
	hkey uint32
	// given: a subscriber had it, or it is kept as a header, so its
	// payload may be referred to after the GOP cache lets go of it; if
	// not, the payload goes back to the source then
	// (PublishOptions.Recycle) and the packet is reused (stream.spare).
	// Guarded by the stream's mutex.
	given bool

	// prep is the chunked form for the first (chunk size, stream id) asked
	// for; more holds others. Loaded without a lock on the fast path.
	prep atomic.Pointer[chunk.Prepared]
	pmu  sync.Mutex
	more []*chunk.Prepared // guarded by pmu
	// enc holds the encodings of the formats with a slot (Format.id).
	enc [maxFormats]atomic.Pointer[[]byte]
}

// NewPacket returns a packet that is not part of a stream (for tests and
// tools): its flags are read from the payload as the hub reads them.
func NewPacket(t message.Type, timestamp uint32, payload []byte) *Packet {
	p := &Packet{typ: t, ts: timestamp, payload: payload}
	switch t {
	case message.TypeVideo:
		classifyVideo(p)
	case message.TypeAudio:
		classifyAudio(p)
	default:
		p.flags |= fConfig
	}
	return p
}

// Type is the message type: message.TypeAudio, TypeVideo, TypeDataAMF0
// or TypeDataAMF3.
func (p *Packet) Type() message.Type { return p.typ }

// Timestamp is the packet's time on the stream's time line, in
// milliseconds (monotonic across publishers; 32 bits as on the wire).
func (p *Packet) Timestamp() uint32 { return p.ts }

// Payload is the message body: an FLV audio or video tag body, or AMF
// script data (a @setDataFrame already unwrapped). It is shared: do not
// modify it.
func (p *Packet) Payload() []byte { return p.payload }

// IsVideo, IsAudio and IsData report the kind of message.
func (p *Packet) IsVideo() bool { return p.typ == message.TypeVideo }
func (p *Packet) IsAudio() bool { return p.typ == message.TypeAudio }
func (p *Packet) IsData() bool {
	return p.typ == message.TypeDataAMF0 || p.typ == message.TypeDataAMF3
}

// IsKeyFrame reports a key frame of the default video track (track 0):
// where a GOP starts.
func (p *Packet) IsKeyFrame() bool { return p.flags&fKey != 0 }

// IsSequenceHeader reports a decoder configuration or other packet every
// subscriber needs whatever it skipped (sequence start and end, codec
// metadata, multichannel configuration, command frames); data messages
// count too.
func (p *Packet) IsSequenceHeader() bool { return p.flags&fConfig != 0 && !p.IsData() }

// IsEnhanced reports an Enhanced RTMP tag (ExVideoTagHeader or
// ExAudioTagHeader); IsMultitrack a multitrack one.
func (p *Packet) IsEnhanced() bool   { return p.flags&fEnhanced != 0 }
func (p *Packet) IsMultitrack() bool { return p.flags&fMultitrack != 0 }

// Codecs returns the FourCCs of an enhanced tag (one per distinct codec of
// a multitrack tag, at most four); nil for a legacy tag (see Codec).
func (p *Packet) Codecs() []flv.FourCC { return p.codecs[:p.ncodecs:p.ncodecs] }

// Codec is the packet's codec as a FourCC: the FourCC of an enhanced tag
// (its first for a multitrack tag), or the equivalent of a legacy codec
// (AVC: avc1, AAC: mp4a, MP3: .mp3); 0 for data and other legacy codecs.
func (p *Packet) Codec() flv.FourCC {
	if p.ncodecs > 0 {
		return p.codecs[0]
	}
	if len(p.payload) == 0 {
		return 0
	}
	switch p.typ {
	case message.TypeVideo:
		if flv.VideoCodecID(p.payload[0]&0x0f) == flv.CodecAVC {
			return flv.FourCCAVC
		}
	case message.TypeAudio:
		switch flv.SoundFormat(p.payload[0] >> 4) {
		case flv.SoundAAC:
			return flv.FourCCAAC
		case flv.SoundMP3:
			return flv.FourCCMP3
		}
	}
	return 0
}

// Track is the track id of a decoder configuration of a multitrack tag
// (its first track); 0 otherwise.
func (p *Packet) Track() uint8 {
	if p.flags&fMultitrack == 0 {
		return 0
	}
	return uint8(p.hkey)
}

// size is what a packet counts for in a queue's byte bound.
func (p *Packet) size() int { return len(p.payload) + 32 }

func (p *Packet) droppable() bool { return p.flags&(fVideo|fConfig) == fVideo }

func csidOf(t message.Type) uint32 {
	switch t {
	case message.TypeAudio:
		return rtmp.CSIDAudio
	case message.TypeVideo:
		return rtmp.CSIDVideo
	}
	return rtmp.CSIDData
}

// Prepared returns the packet chunked at chunkSize for message stream sid
// (chunk.NewPrepared: a full type 0 header on the first chunk, so the
// same bytes fit any connection at that chunk size), made on first use
// and shared.
func (p *Packet) Prepared(chunkSize, sid uint32) (*chunk.Prepared, error) {
	if c := p.prep.Load(); c != nil && c.ChunkSize() == chunkSize && c.Header().StreamID == sid {
		return c, nil
	}
	p.pmu.Lock()
	defer p.pmu.Unlock()
	c := p.prep.Load()
	if c != nil && c.ChunkSize() == chunkSize && c.Header().StreamID == sid {
		return c, nil
	}
	for _, m := range p.more {
		if m.ChunkSize() == chunkSize && m.Header().StreamID == sid {
			return m, nil
		}
	}
	m, err := chunk.NewPrepared(chunk.Message{CSID: csidOf(p.typ), Header: chunk.Header{Timestamp: p.ts, TypeID: uint8(p.typ), StreamID: sid}, Payload: p.payload}, chunkSize)
	if err != nil {
		return nil, err
	}
	if c == nil {
		p.prep.Store(m)
	} else {
		p.more = append(p.more, m)
	}
	return m, nil
}

// restamped returns a copy of p at another time, sharing the payload: the
// stream's kept headers and data frames, sent to a new player just before
// its first Packet. fJoin marks it.
func (p *Packet) restamped(ts uint32) *Packet {
	return &Packet{typ: p.typ, ts: ts, payload: p.payload, flags: p.flags&^(fTrack0|fLegacy) | fJoin, codecs: p.codecs, ncodecs: p.ncodecs, hkey: p.hkey}
}

// IsJoin reports a packet a new subscriber got at its start, restamped to
// its first media time: a kept data frame or decoder configuration.
func (p *Packet) IsJoin() bool { return p.flags&fJoin != 0 }

func (p *Packet) addCodec(f flv.FourCC) {
	for _, c := range p.codecs[:p.ncodecs] {
		if c == f {
			return
		}
	}
	if int(p.ncodecs) == maxCodecs {
		p.flags |= fManyCodecs
		return
	}
	p.codecs[p.ncodecs] = f
	p.ncodecs++
}

// Header slot keys: message type, Packet type and track.
func headerKey(t message.Type, pt uint8, multitrack bool, track uint8) uint32 {
	k := uint32(t)<<16 | uint32(pt)<<8 | uint32(track)
	if multitrack {
		k |= 1 << 24
	}
	return k
}

// classifyVideo sets the flags of a video Packet from its tag header (a
// zero-allocation parse). It reports whether the Packet is a decoder
// configuration to keep for late players. The other forms of an enhanced
// tag (track 0 alone, the legacy tag) are made later, and only if a
// subscriber takes them (altPacket, legacyPacket).
func classifyVideo(p *Packet) (keep bool) {
	p.flags |= fVideo
	var v flv.VideoTag
	if err := v.Unmarshal(p.payload); err != nil {
		// Unparseable video is relayed as it is, to players that take
		// everything legacy players take; it never starts a GOP.
		return false
	}
	if v.HasCommand {
		p.flags |= fConfig
	}
	if !v.Enhanced {
		switch {
		case v.IsKeyFrame():
			p.flags |= fKey
		case v.IsSequenceHeader():
			p.flags |= fConfig
			p.hkey = headerKey(message.TypeVideo, uint8(v.CodecID), false, 0)
			return true
		case v.IsSequenceEnd():
			p.flags |= fConfig
		}
		return false
	}
	p.flags |= fEnhanced
	config := v.IsSequenceHeader() || v.PacketType == flv.VideoMetadata
	if config || v.IsSequenceEnd() {
		p.flags |= fConfig
	}
	if !v.Multitrack {
		p.addCodec(v.FourCC)
		if v.IsKeyFrame() {
			p.flags |= fKey
		}
		if hasLegacyVideo(v.FourCC) {
			p.flags |= fLegacy
		}
		if config {
			p.hkey = headerKey(message.TypeVideo, uint8(v.PacketType), false, 0)
		}
		return config
	}
	p.flags |= fMultitrack
	it := v.Tracks()
	first := true
	for it.Next() {
		tr := it.Track()
		p.addCodec(tr.FourCC)
		if first && config {
			p.hkey = headerKey(message.TypeVideo, uint8(v.PacketType), true, tr.ID)
		}
		first = false
		if tr.ID == 0 && p.flags&fTrack0 == 0 {
			p.flags |= fTrack0
			if v.IsKeyFrame() {
				p.flags |= fKey
			}
			if hasLegacyVideo(tr.FourCC) {
				p.flags |= fLegacy
			}
		}
	}
	if it.Err() != nil {
		p.flags &^= fKey | fTrack0 | fLegacy
		return false
	}
	return config
}

// classifyAudio is classifyVideo for audio.
func classifyAudio(p *Packet) (keep bool) {
	var a flv.AudioTag
	if err := a.Unmarshal(p.payload); err != nil {
		return false
	}
	if !a.Enhanced() {
		if a.IsSequenceHeader() {
			p.flags |= fConfig
			p.hkey = headerKey(message.TypeAudio, uint8(a.SoundFormat), false, 0)
			return true
		}
		return false
	}
	p.flags |= fEnhanced
	config := a.IsSequenceHeader() || a.PacketType == flv.AudioMultichannelConfig
	if config || a.PacketType == flv.AudioSequenceEnd {
		p.flags |= fConfig
	}
	if !a.Multitrack {
		p.addCodec(a.FourCC)
		if hasLegacyAudio(a.FourCC) {
			p.flags |= fLegacy
		}
		if config {
			p.hkey = headerKey(message.TypeAudio, uint8(a.PacketType), false, 0)
		}
		return config
	}
	p.flags |= fMultitrack
	it := a.Tracks()
	first := true
	for it.Next() {
		tr := it.Track()
		p.addCodec(tr.FourCC)
		if first && config {
			p.hkey = headerKey(message.TypeAudio, uint8(a.PacketType), true, tr.ID)
		}
		first = false
		if tr.ID == 0 && p.flags&fTrack0 == 0 {
			p.flags |= fTrack0
			if hasLegacyAudio(tr.FourCC) {
				p.flags |= fLegacy
			}
		}
	}
	if it.Err() != nil {
		p.flags &^= fTrack0 | fLegacy
		return false
	}
	return config
}

// The codecs with a legacy FLV form (flv Legacy): avc1 as AVC, mp4a as
// AAC, .mp3 as MP3.
func hasLegacyVideo(f flv.FourCC) bool { return f == flv.FourCCAVC }
func hasLegacyAudio(f flv.FourCC) bool { return f == flv.FourCCAAC || f == flv.FourCCMP3 }

// tagBody is an flv.VideoTag or flv.AudioTag to encode.
type tagBody interface {
	HeaderSize() int
	Append([]byte) ([]byte, error)
}

// derive returns a packet carrying another encoding of p's message (track
// 0 alone, or its legacy form) at p's timestamp, or nil if it does not
// encode. fourcc, when set, is its only codec.
func (p *Packet) derive(t tagBody, dataLen int, flags pflags, fourcc flv.FourCC) *Packet {
	b, err := t.Append(make([]byte, 0, t.HeaderSize()+dataLen))
	if err != nil {
		return nil
	}
	d := &Packet{typ: p.typ, ts: p.ts, payload: b, flags: flags, hkey: p.hkey}
	if fourcc != 0 {
		d.addCodec(fourcc)
	}
	return d
}

// single returns the single-track tag of p: the tag itself, or its track
// 0 (multitrack); ok is false when there is none.
func (p *Packet) single() (v flv.VideoTag, a flv.AudioTag, ok bool) {
	if p.typ == message.TypeVideo {
		if v.Unmarshal(p.payload) != nil {
			return v, a, false
		}
		if !v.Multitrack {
			return v, a, true
		}
		for it := v.Tracks(); it.Next(); {
			if tr := it.Track(); tr.ID == 0 {
				return v.TrackTag(tr), a, true
			}
		}
		return v, a, false
	}
	if a.Unmarshal(p.payload) != nil {
		return v, a, false
	}
	if !a.Multitrack {
		return v, a, true
	}
	for it := a.Tracks(); it.Next(); {
		if tr := it.Track(); tr.ID == 0 {
			return v, a.TrackTag(tr), true
		}
	}
	return v, a, false
}

// altPacket returns track 0 of a multitrack tag as a plain single-track
// enhanced tag (flv TrackTag), for subscribers that take the codec but
// not multitrack; nil when the tag has no track 0. It is made on first use,
// under the stream's mutex, and kept.
func (p *Packet) altPacket() *Packet {
	if p.flags&fTrack0 == 0 || p.tried&triedAlt != 0 {
		return p.alt
	}
	p.tried |= triedAlt
	{
		v, a, ok := p.single()
		flags := p.flags&^(fMultitrack|fManyCodecs|fTrack0) | fEnhanced
		switch {
		case !ok:
		case p.typ == message.TypeVideo:
			p.alt = p.derive(&v, len(v.Data), flags, v.FourCC)
		default:
			p.alt = p.derive(&a, len(a.Data), flags, a.FourCC)
		}
	}
	return p.alt
}

// legacyPacket returns the tag (or its track 0) in legacy FLV form when
// the codec has one — avc1 as AVC, mp4a as AAC, .mp3 as MP3 (flv Legacy) —
// for subscribers that take neither the tag nor its track 0; nil
// otherwise. Made on first use, under the stream's mutex, and kept.
func (p *Packet) legacyPacket() *Packet {
	if p.flags&fLegacy == 0 || p.tried&triedLegacy != 0 {
		return p.legacy
	}
	p.tried |= triedLegacy
	{
		v, a, ok := p.single()
		flags := p.flags &^ (fEnhanced | fMultitrack | fManyCodecs | fTrack0 | fLegacy)
		if ok && p.typ == message.TypeVideo {
			if l, ok := v.Legacy(); ok {
				p.legacy = p.derive(&l, len(l.Data), flags, 0)
			}
		} else if ok {
			if l, ok := a.Legacy(); ok {
				p.legacy = p.derive(&l, len(l.Data), flags, 0)
			}
		}
	}
	return p.legacy
}
