package record

import (
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
)

// maxHeaders bounds the decoder configurations a recorder keeps (as the
// hub does, live.MaxHeaders).
const maxHeaders = live.MaxHeaders

// maxPending bounds the data frames kept for the start of a file, and
// maxPendingBytes their bytes.
const (
	maxPending      = 16
	maxPendingBytes = 1 << 20
)

// headers are the decoder configurations in force, one per slot (codec
// and packet type per track), in the order they first came: what a new
// file starts with so that it decodes on its own.
type headers struct {
	slots []slot
}

type slot struct {
	key uint32
	p   *live.Packet
}

// Slot key bits.
const (
	slotAudio      = 1 << 24
	slotEnhanced   = 1 << 25
	slotMultitrack = 1 << 26
)

func slotKey(audio, enhanced, multitrack bool, pt uint8, track uint8) uint32 {
	k := uint32(pt)<<8 | uint32(track)
	if audio {
		k |= slotAudio
	}
	if enhanced {
		k |= slotEnhanced
	}
	if multitrack {
		k |= slotMultitrack
	}
	return k
}

// note keeps p if it is a decoder configuration, and forgets the
// configuration a sequence end closes.
func (h *headers) note(p *live.Packet) {
	key, keep, ok := classify(p)
	if !ok {
		return
	}
	for i := range h.slots {
		if h.slots[i].key == key {
			if keep {
				h.slots[i].p = p
			} else {
				h.slots = append(h.slots[:i], h.slots[i+1:]...)
			}
			return
		}
	}
	if keep && len(h.slots) < maxHeaders {
		h.slots = append(h.slots, slot{key, p})
	}
}

func (h *headers) has(audio bool) bool {
	for _, s := range h.slots {
		if (s.key&slotAudio != 0) == audio {
			return true
		}
	}
	return false
}

// classify reads a configuration packet's slot: keep it (a sequence
// start, codec metadata, multichannel configuration), or end the slot's
// sequence (ok and !keep). Other packets are not ok.
func classify(p *live.Packet) (key uint32, keep, ok bool) {
	switch {
	case p.IsVideo():
		var v flv.VideoTag
		if v.Unmarshal(p.Payload()) != nil || v.HasCommand {
			return 0, false, false
		}
		if !v.Enhanced {
			key = slotKey(false, false, false, uint8(v.CodecID), 0)
			return key, v.IsSequenceHeader(), v.IsSequenceHeader() || v.IsSequenceEnd()
		}
		track := firstTrack(v.Multitrack, v.Tracks())
		switch {
		case v.IsSequenceHeader(), v.PacketType == flv.VideoMetadata:
			return slotKey(false, true, v.Multitrack, uint8(v.PacketType), track), true, true
		case v.IsSequenceEnd():
			return slotKey(false, true, v.Multitrack, uint8(flv.VideoSequenceStart), track), false, true
		}
	case p.IsAudio():
		var a flv.AudioTag
		if a.Unmarshal(p.Payload()) != nil {
			return 0, false, false
		}
		if !a.Enhanced() {
			if a.IsSequenceHeader() {
				return slotKey(true, false, false, uint8(a.SoundFormat), 0), true, true
			}
			return 0, false, false
		}
		track := firstTrack(a.Multitrack, a.Tracks())
		switch {
		case a.IsSequenceHeader(), a.PacketType == flv.AudioMultichannelConfig:
			return slotKey(true, true, a.Multitrack, uint8(a.PacketType), track), true, true
		case a.PacketType == flv.AudioSequenceEnd:
			return slotKey(true, true, a.Multitrack, uint8(flv.AudioSequenceStart), track), false, true
		}
	}
	return 0, false, false
}

func firstTrack(multitrack bool, it flv.TrackIter) uint8 {
	if !multitrack || !it.Next() {
		return 0
	}
	return it.Track().ID
}
