package fmp4

import (
	"encoding/binary"
	"fmt"
)

// unityMatrix is the identity transformation of mvhd and tkhd
// (ISO/IEC 14496-12 §8.2.2.3): 16.16 fixed point, and 2.30 in the last column.
var unityMatrix = [36]byte{
	0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0,
}

// AppendInit appends an initialization segment for the given tracks
// (ISO/IEC 14496-12 §8; one track for a CMAF header, several for a
// multiplexed stream):
//
//	ftyp  major brand iso6, compatible iso6 and mp41
//	moov
//	  mvhd  timescale 1000, duration 0, next_track_ID
//	  trak  (one per track)
//	    tkhd  enabled and in movie; the picture size of video, full volume for audio
//	    mdia
//	      mdhd  the track's timescale, language "und"
//	      hdlr  vide or soun
//	      minf
//	        vmhd or smhd
//	        dinf/dref  one self-contained url entry
//	        stbl  stsd with the track's sample entry; stts, stsc, stsz and
//	              stco empty: the samples are in the fragments
//	  mvex
//	    trex  (one per track) sample description 1, no defaults
//
// Track IDs must differ. Creation times are zero: no clock is read.
func AppendInit(dst []byte, tracks ...*Track) ([]byte, error) {
	if len(tracks) == 0 {
		return dst, fmt.Errorf("fmp4: initialization segment with no track: %w", ErrInvalid)
	}
	next := uint32(0)
	for i, t := range tracks {
		if t.entry == nil {
			return dst, fmt.Errorf("fmp4: track %d was not made by NewTrack: %w", t.ID, ErrInvalid)
		}
		for _, u := range tracks[:i] {
			if u.ID == t.ID {
				return dst, fmt.Errorf("fmp4: track id %d twice: %w", t.ID, ErrInvalid)
			}
		}
		next = max(next, t.ID)
	}
	if next == 0xffffffff {
		return dst, fmt.Errorf("fmp4: track id %d leaves no next_track_ID: %w", next, ErrInvalid)
	}

	dst, at := StartBox(dst, typeFtyp)
	dst = append(dst, "iso6\x00\x00\x00\x00iso6mp41"...)
	EndBox(dst, at)

	dst, moov := StartBox(dst, typeMoov)
	dst, at = StartFullBox(dst, typeMvhd, 0, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // creation_time, modification_time
	dst = binary.BigEndian.AppendUint32(dst, 1000)
	dst = append(dst, 0, 0, 0, 0)          // duration
	dst = append(dst, 0, 1, 0, 0, 1, 0)    // rate 1.0, volume 1.0
	dst = append(dst, make([]byte, 10)...) // reserved
	dst = append(dst, unityMatrix[:]...)   //
	dst = append(dst, make([]byte, 24)...) // pre_defined
	dst = binary.BigEndian.AppendUint32(dst, next+1)
	EndBox(dst, at)
	for _, t := range tracks {
		dst = t.appendTrak(dst)
	}
	dst, mvex := StartBox(dst, typeMvex)
	for _, t := range tracks {
		dst, at = StartFullBox(dst, typeTrex, 0, 0)
		dst = binary.BigEndian.AppendUint32(dst, t.ID)
		dst = append(dst, 0, 0, 0, 1) // default_sample_description_index
		dst = append(dst, make([]byte, 12)...)
		EndBox(dst, at)
	}
	EndBox(dst, mvex)
	EndBox(dst, moov)
	return dst, nil
}

func (t *Track) appendTrak(dst []byte) []byte {
	video := t.IsVideo()
	dst, trak := StartBox(dst, typeTrak)

	dst, at := StartFullBox(dst, typeTkhd, 0, 3) // track_enabled | track_in_movie
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)    // creation_time, modification_time
	dst = binary.BigEndian.AppendUint32(dst, t.ID)
	dst = append(dst, make([]byte, 4+4+8+2+2)...) // reserved, duration, reserved, layer, alternate_group
	if video {
		dst = append(dst, 0, 0, 0, 0) // volume, reserved
	} else {
		dst = append(dst, 1, 0, 0, 0)
	}
	dst = append(dst, unityMatrix[:]...)
	if video {
		dst = binary.BigEndian.AppendUint32(dst, uint32(t.Video.Width)<<16)
		dst = binary.BigEndian.AppendUint32(dst, uint32(t.Video.Height)<<16)
	} else {
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	EndBox(dst, at)

	dst, mdia := StartBox(dst, typeMdia)
	dst, at = StartFullBox(dst, typeMdhd, 0, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, t.Timescale)
	dst = append(dst, 0, 0, 0, 0)       // duration
	dst = append(dst, 0x55, 0xc4, 0, 0) // language "und" (ISO 639-2/T, 5 bits a letter), pre_defined
	EndBox(dst, at)

	dst, at = StartFullBox(dst, typeHdlr, 0, 0)
	if video {
		dst = append(dst, "\x00\x00\x00\x00vide\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00VideoHandler\x00"...)
	} else {
		dst = append(dst, "\x00\x00\x00\x00soun\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00SoundHandler\x00"...)
	}
	EndBox(dst, at)

	dst, minf := StartBox(dst, typeMinf)
	if video {
		dst, at = StartFullBox(dst, typeVmhd, 0, 1)
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // graphicsmode, opcolor
	} else {
		dst, at = StartFullBox(dst, typeSmhd, 0, 0)
		dst = append(dst, 0, 0, 0, 0) // balance, reserved
	}
	EndBox(dst, at)
	dst, dinf := StartBox(dst, typeDinf)
	dst, at = StartFullBox(dst, typeDref, 0, 0)
	dst = append(dst, 0, 0, 0, 1)
	dst = append(dst, 0, 0, 0, 12, 'u', 'r', 'l', ' ', 0, 0, 0, 1) // flags 1: media in this file
	EndBox(dst, at)
	EndBox(dst, dinf)

	dst, stbl := StartBox(dst, typeStbl)
	dst, at = StartFullBox(dst, typeStsd, 0, 0)
	dst = append(dst, 0, 0, 0, 1)
	dst = append(dst, t.entry...)
	EndBox(dst, at)
	for _, typ := range [...]BoxType{typeStts, typeStsc} {
		dst, at = StartFullBox(dst, typ, 0, 0)
		dst = append(dst, 0, 0, 0, 0) // entry_count
		EndBox(dst, at)
	}
	dst, at = StartFullBox(dst, typeStsz, 0, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // sample_size, sample_count
	EndBox(dst, at)
	dst, at = StartFullBox(dst, typeStco, 0, 0)
	dst = append(dst, 0, 0, 0, 0)
	EndBox(dst, at)
	EndBox(dst, stbl)

	EndBox(dst, minf)
	EndBox(dst, mdia)
	EndBox(dst, trak)
	return dst
}
