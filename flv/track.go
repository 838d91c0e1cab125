package flv

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Track is one track of an audio or video tag. For a tag that is not
// multitrack, the single track has ID 0, the convention for a default track
// (Enhanced RTMP v2, "Track Ordering").
type Track struct {
	FourCC FourCC
	ID     uint8
	// CompositionTime is set for video CodedFrames of avc1, hvc1 and vvc1.
	CompositionTime int32
	// Data is the track's codec payload, after any composition time. It
	// aliases the tag.
	Data []byte
}

// TrackIter walks the tracks of a tag without allocating:
//
//	it := tag.Tracks()
//	for it.Next() {
//		tr := it.Track()
//	}
//	if err := it.Err(); err != nil { ... }
//
// Each track of a multitrack tag is laid out as (Enhanced RTMP v2,
// ExVideoTagBody / ExAudioTagBody):
//
//	[FourCC]           ManyTracksManyCodecs only
//	trackId      UI8
//	[sizeOfTrack UI24] all but OneTrack; counts the bytes after it
//	[CompositionTime SI24] video CodedFrames of avc1/hvc1/vvc1
//	data
type TrackIter struct {
	video      bool
	multitrack bool
	mtType     MultitrackType
	pt         uint8
	fourcc     FourCC
	rest       []byte
	single     bool // a one-track tag not yet returned
	cur        Track
	err        error
}

// Tracks returns an iterator over the tag's tracks. A command frame has none.
func (t *VideoTag) Tracks() TrackIter {
	it := TrackIter{video: true, pt: uint8(t.PacketType), fourcc: t.Codec(), rest: t.Data}
	switch {
	case t.HasCommand:
	case t.Multitrack:
		it.multitrack, it.mtType = true, t.MultitrackType
	default:
		it.single = true
		it.cur = Track{FourCC: it.fourcc, CompositionTime: t.CompositionTime, Data: t.Data}
	}
	return it
}

// Tracks returns an iterator over the tag's tracks. The silence message has none.
func (t *AudioTag) Tracks() TrackIter {
	it := TrackIter{pt: uint8(t.PacketType), fourcc: t.Codec(), rest: t.Data}
	switch {
	case t.Silence:
	case t.Multitrack:
		it.multitrack, it.mtType = true, t.MultitrackType
	default:
		it.single = true
		it.cur = Track{FourCC: it.fourcc, Data: t.Data}
	}
	return it
}

// Next advances to the next track and reports whether there is one.
func (it *TrackIter) Next() bool {
	if it.err != nil {
		return false
	}
	if !it.multitrack {
		ok := it.single
		it.single = false
		return ok
	}
	if len(it.rest) == 0 {
		return false
	}
	b := it.rest
	fourcc := it.fourcc
	switch it.mtType {
	case OneTrack, ManyTracks, ManyTracksManyCodecs:
	default:
		it.err = fmt.Errorf("%w: reserved multitrack type %d has no defined layout", ErrTracks, it.mtType)
		return false
	}
	if it.mtType == ManyTracksManyCodecs {
		if len(b) < 4 {
			it.err = errTruncated("track fourcc")
			return false
		}
		fourcc = FourCC(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) < 1 {
		it.err = errTruncated("track id")
		return false
	}
	id := b[0]
	b = b[1:]
	var data []byte
	if it.mtType == OneTrack {
		data, b = b, nil
	} else {
		if len(b) < 3 {
			it.err = errTruncated("track size")
			return false
		}
		size := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		b = b[3:]
		if size > len(b) {
			it.err = errTruncated("track data")
			return false
		}
		data, b = b[:size:size], b[size:]
	}
	tr := Track{FourCC: fourcc, ID: id, Data: data}
	if it.video && VideoPacketType(it.pt) == VideoCodedFrames && fourcc.hasCompositionTime() {
		if len(data) < 3 {
			it.err = errTruncated("track composition time")
			return false
		}
		tr.CompositionTime = si24(data)
		tr.Data = data[3:]
	}
	it.cur, it.rest = tr, b
	return true
}

// Track returns the current track.
func (it *TrackIter) Track() Track { return it.cur }

// Err returns the error that stopped the walk, if any.
func (it *TrackIter) Err() error { return it.err }

// appendTrackBody writes a track's bytes after its size field.
func appendTrackBody(dst []byte, video bool, pt uint8, tr Track) ([]byte, error) {
	if video && VideoPacketType(pt) == VideoCodedFrames && tr.FourCC.hasCompositionTime() {
		if !fitsSI24(tr.CompositionTime) {
			return dst, fmt.Errorf("flv: composition time %d does not fit in SI24", tr.CompositionTime)
		}
		dst = appendSI24(dst, tr.CompositionTime)
	}
	return append(dst, tr.Data...), nil
}

// buildTracks encodes tracks as a multitrack track list and picks the type:
// OneTrack for one track, ManyTracks when all share a FourCC, else
// ManyTracksManyCodecs.
func buildTracks(video bool, pt uint8, tracks []Track) (MultitrackType, FourCC, []byte, error) {
	if len(tracks) == 0 {
		return 0, 0, nil, fmt.Errorf("%w: no tracks to join", ErrTracks)
	}
	mt := ManyTracks
	if len(tracks) == 1 {
		mt = OneTrack
	}
	var ids [256]bool
	for _, tr := range tracks {
		if tr.FourCC != tracks[0].FourCC {
			mt = ManyTracksManyCodecs
		}
		if ids[tr.ID] {
			return 0, 0, nil, fmt.Errorf("%w: track id %d appears twice", ErrTracks, tr.ID)
		}
		ids[tr.ID] = true
	}
	var buf []byte
	var err error
	for _, tr := range tracks {
		if mt == ManyTracksManyCodecs {
			buf = binary.BigEndian.AppendUint32(buf, uint32(tr.FourCC))
		}
		buf = append(buf, tr.ID)
		if mt == OneTrack {
			if buf, err = appendTrackBody(buf, video, pt, tr); err != nil {
				return 0, 0, nil, err
			}
			continue
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0)
		if buf, err = appendTrackBody(buf, video, pt, tr); err != nil {
			return 0, 0, nil, err
		}
		size := len(buf) - at - 3
		if size > 0xFFFFFF {
			return 0, 0, nil, ErrTrackTooLarge
		}
		buf[at], buf[at+1], buf[at+2] = byte(size>>16), byte(size>>8), byte(size)
	}
	fourcc := tracks[0].FourCC
	if mt == ManyTracksManyCodecs {
		fourcc = 0
	}
	return mt, fourcc, buf, nil
}

// SplitVideo splits a tag into one tag per track. Each result is a OneTrack
// multitrack tag that keeps the track id, the frame type, the packet type and
// the ModEx chain; its Data is newly allocated. A tag that is not multitrack
// is returned as the only element, unchanged.
func SplitVideo(t *VideoTag) ([]VideoTag, error) {
	if !t.Multitrack {
		return []VideoTag{*t}, nil
	}
	var out []VideoTag
	it := t.Tracks()
	for it.Next() {
		tr := it.Track()
		one := *t
		var err error
		one.MultitrackType, one.FourCC, one.Data, err = buildTracks(true, uint8(t.PacketType), []Track{tr})
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, it.Err()
}

// JoinVideo merges the tracks of several tags into one multitrack tag. The
// tags must agree on frame type, packet type and ModEx chain, since a video
// message carries one of each; their tracks keep their ids (a tag that is not
// multitrack contributes a track with id 0). The result is OneTrack,
// ManyTracks or ManyTracksManyCodecs as the tracks require.
func JoinVideo(tags []VideoTag) (VideoTag, error) {
	if len(tags) == 0 {
		return VideoTag{}, fmt.Errorf("%w: no tags to join", ErrTracks)
	}
	first := &tags[0]
	var tracks []Track
	for i := range tags {
		t := &tags[i]
		switch {
		case !t.Enhanced || t.HasCommand:
			return VideoTag{}, fmt.Errorf("%w: tag %d is not an enhanced media tag", ErrTracks, i)
		case t.FrameType != first.FrameType || t.PacketType != first.PacketType || !bytes.Equal(t.ModEx, first.ModEx):
			return VideoTag{}, fmt.Errorf("%w: tag %d differs in frame type, packet type or ModEx", ErrTracks, i)
		}
		it := t.Tracks()
		for it.Next() {
			tracks = append(tracks, it.Track())
		}
		if err := it.Err(); err != nil {
			return VideoTag{}, err
		}
	}
	return MultitrackVideo(first.FrameType, first.PacketType, first.ModEx, tracks...)
}

// MultitrackVideo builds a multitrack video tag from tracks: OneTrack for one
// track, ManyTracks when they share a FourCC, else ManyTracksManyCodecs.
// Track ids must be distinct. Data is newly allocated.
func MultitrackVideo(ft VideoFrameType, pt VideoPacketType, modex ModEx, tracks ...Track) (VideoTag, error) {
	out := VideoTag{Enhanced: true, FrameType: ft, PacketType: pt, ModEx: modex, Multitrack: true}
	var err error
	out.MultitrackType, out.FourCC, out.Data, err = buildTracks(true, uint8(pt), tracks)
	return out, err
}

// MultitrackAudio is MultitrackVideo for audio.
func MultitrackAudio(pt AudioPacketType, modex ModEx, tracks ...Track) (AudioTag, error) {
	out := AudioTag{SoundFormat: SoundExHeader, PacketType: pt, ModEx: modex, Multitrack: true}
	var err error
	out.MultitrackType, out.FourCC, out.Data, err = buildTracks(false, uint8(pt), tracks)
	return out, err
}

// SplitAudio is SplitVideo for audio tags.
func SplitAudio(t *AudioTag) ([]AudioTag, error) {
	if !t.Multitrack {
		return []AudioTag{*t}, nil
	}
	var out []AudioTag
	it := t.Tracks()
	for it.Next() {
		one := *t
		var err error
		one.MultitrackType, one.FourCC, one.Data, err = buildTracks(false, uint8(t.PacketType), []Track{it.Track()})
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, it.Err()
}

// JoinAudio is JoinVideo for audio tags: they must agree on packet type and
// ModEx chain.
func JoinAudio(tags []AudioTag) (AudioTag, error) {
	if len(tags) == 0 {
		return AudioTag{}, fmt.Errorf("%w: no tags to join", ErrTracks)
	}
	first := &tags[0]
	var tracks []Track
	for i := range tags {
		t := &tags[i]
		switch {
		case !t.Enhanced():
			return AudioTag{}, fmt.Errorf("%w: tag %d is not an enhanced audio tag", ErrTracks, i)
		case t.PacketType != first.PacketType || !bytes.Equal(t.ModEx, first.ModEx):
			return AudioTag{}, fmt.Errorf("%w: tag %d differs in packet type or ModEx", ErrTracks, i)
		}
		it := t.Tracks()
		for it.Next() {
			tracks = append(tracks, it.Track())
		}
		if err := it.Err(); err != nil {
			return AudioTag{}, err
		}
	}
	return MultitrackAudio(first.PacketType, first.ModEx, tracks...)
}

// TrackTag returns a single-track (not multitrack) enhanced video tag for one
// track of t, for a player that takes the codec but not multitrack. Data
// aliases the track.
func (t *VideoTag) TrackTag(tr Track) VideoTag {
	return VideoTag{Enhanced: true, FrameType: t.FrameType, PacketType: t.PacketType, ModEx: t.ModEx,
		FourCC: tr.FourCC, CompositionTime: tr.CompositionTime, Data: tr.Data}
}

// TrackTag returns a single-track (not multitrack) enhanced audio tag for one
// track of t. Data aliases the track.
func (t *AudioTag) TrackTag(tr Track) AudioTag {
	return AudioTag{SoundFormat: SoundExHeader, PacketType: t.PacketType, ModEx: t.ModEx, FourCC: tr.FourCC, Data: tr.Data}
}
