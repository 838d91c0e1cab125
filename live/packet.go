package live

import (
	"sync"
	"sync/atomic"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// pflags describe a packet for the queue policy and track selection.
type pflags uint16

const (
	// fVideo: a video message. Together with fConfig clear, it is video the
	// drop policy may skip.
	fVideo pflags = 1 << iota
	// fKey: a key frame of the default track (track 0): where a GOP starts
	// and where a player that skipped video resumes.
	fKey
	// fConfig: a decoder configuration or other packet every player needs
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
)

// maxCodecs is how many distinct FourCCs a packet records.
const maxCodecs = 4

// packet is one message of a stream as players get it: immutable once
// published, shared by reference by the GOP cache and every queue holding
// it, never copied. Its chunked form is made once per (chunk size, message
// stream id) — nearly always once — and shared by every player's writer.
type packet struct {
	typ     message.Type
	ts      uint32 // the stream's output time, as the wire's 32 bits
	payload []byte
	flags   pflags
	// codecs are the FourCCs of an enhanced tag (one for a single-track
	// tag, one per distinct codec for a multitrack tag).
	codecs  [maxCodecs]flv.FourCC
	ncodecs uint8
	// alt is track 0 of a multitrack tag as a plain single-track enhanced
	// tag (flv.VideoTag.TrackTag), for players that take the codec but not
	// multitrack; nil when the tag has no track 0.
	alt *packet
	// legacy is the tag (or its track 0) in legacy FLV form when the codec
	// has one — avc1 as AVC, mp4a as AAC, .mp3 as MP3 (flv Legacy) — for
	// players that take neither the tag nor alt; nil otherwise.
	legacy *packet
	// hkey identifies a configuration packet's slot among the stream's
	// kept headers (type, packet type, track).
	hkey uint32

	// prep is the chunked form for the first (chunk size, stream id) asked
	// for; more holds others. Loaded without a lock on the fast path.
	prep atomic.Pointer[chunk.Prepared]
	pmu  sync.Mutex
	more []*chunk.Prepared // guarded by pmu
}

// size is what a packet counts for in a queue's byte bound.
func (p *packet) size() int { return len(p.payload) + 32 }

func (p *packet) droppable() bool { return p.flags&(fVideo|fConfig) == fVideo }

func csidOf(t message.Type) uint32 {
	switch t {
	case message.TypeAudio:
		return rtmp.CSIDAudio
	case message.TypeVideo:
		return rtmp.CSIDVideo
	}
	return rtmp.CSIDData
}

// prepared returns the packet chunked at chunkSize for message stream sid,
// making it on first use.
func (p *packet) prepared(chunkSize, sid uint32) (*chunk.Prepared, error) {
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
// its first packet.
func (p *packet) restamped(ts uint32) *packet {
	n := &packet{typ: p.typ, ts: ts, payload: p.payload, flags: p.flags, codecs: p.codecs, ncodecs: p.ncodecs, hkey: p.hkey}
	if p.alt != nil {
		n.alt = p.alt.restamped(ts)
	}
	return n
}

func (p *packet) addCodec(f flv.FourCC) {
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

// Header slot keys: message type, packet type and track.
func headerKey(t message.Type, pt uint8, multitrack bool, track uint8) uint32 {
	k := uint32(t)<<16 | uint32(pt)<<8 | uint32(track)
	if multitrack {
		k |= 1 << 24
	}
	return k
}

// classifyVideo sets the flags of a video packet from its tag header (a
// zero-allocation parse) and, for a multitrack tag with a track 0, builds
// alt. It reports whether the packet is a decoder configuration to keep for
// late players.
func classifyVideo(p *packet) (keep bool) {
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
		p.setLegacyVideo(&v)
		p.addCodec(v.FourCC)
		if v.IsKeyFrame() {
			p.flags |= fKey
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
		if tr.ID == 0 && p.alt == nil {
			one := v.TrackTag(tr)
			if p.alt = p.derive(&one, len(one.Data), p.flags&^fMultitrack|fEnhanced, tr.FourCC); p.alt != nil {
				if v.IsKeyFrame() {
					p.flags |= fKey
					p.alt.flags |= fKey
				}
				p.setLegacyVideo(&one)
			}
		}
	}
	if it.Err() != nil {
		p.alt = nil
		p.flags &^= fKey
		return false
	}
	return config
}

// classifyAudio is classifyVideo for audio.
func classifyAudio(p *packet) (keep bool) {
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
		p.setLegacyAudio(&a)
		p.addCodec(a.FourCC)
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
		if tr.ID == 0 && p.alt == nil {
			one := a.TrackTag(tr)
			if p.alt = p.derive(&one, len(one.Data), p.flags&^fMultitrack|fEnhanced, tr.FourCC); p.alt != nil {
				p.setLegacyAudio(&one)
			}
		}
	}
	if it.Err() != nil {
		p.alt = nil
		return false
	}
	return config
}

// tagBody is an flv.VideoTag or flv.AudioTag to encode.
type tagBody interface {
	HeaderSize() int
	Append([]byte) ([]byte, error)
}

// derive returns a packet carrying another encoding of p's message (track
// 0 alone, or its legacy form) at p's timestamp, or nil if it does not
// encode. fourcc, when set, is its only codec.
func (p *packet) derive(t tagBody, dataLen int, flags pflags, fourcc flv.FourCC) *packet {
	b, err := t.Append(make([]byte, 0, t.HeaderSize()+dataLen))
	if err != nil {
		return nil
	}
	d := &packet{typ: p.typ, ts: p.ts, payload: b, flags: flags}
	if fourcc != 0 {
		d.addCodec(fourcc)
	}
	return d
}

// legacyFlags are a derived legacy packet's flags.
func (p *packet) legacyFlags() pflags { return p.flags &^ (fEnhanced | fMultitrack | fManyCodecs) }

// setLegacyVideo attaches the legacy form of an enhanced single-track tag.
func (p *packet) setLegacyVideo(v *flv.VideoTag) {
	if l, ok := v.Legacy(); ok {
		if p.legacy = p.derive(&l, len(l.Data), p.legacyFlags(), 0); p.legacy != nil && l.IsKeyFrame() {
			p.legacy.flags |= fKey
		}
	}
}

// setLegacyAudio is setLegacyVideo for audio.
func (p *packet) setLegacyAudio(a *flv.AudioTag) {
	if l, ok := a.Legacy(); ok {
		p.legacy = p.derive(&l, len(l.Data), p.legacyFlags(), 0)
	}
}
