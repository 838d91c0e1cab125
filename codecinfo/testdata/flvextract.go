//go:build ignore

// Command flvextract copies one payload out of a media file, for making test vectors.
//
//	go run flvextract.go IN.flv vconfig|vframe|aconfig|aframe OUT [MAXBYTES]
//	go run flvextract.go IN.mp4 box:FOURCC OUT [MAXBYTES]
//	go run flvextract.go IN.ivf ivf OUT [MAXBYTES]
//	go run flvextract.go IN raw OUT [MAXBYTES]
//	go run flvextract.go IN.avif avif OUT
//
// vconfig/aconfig write the first video/audio sequence header's record (avcC, hvcC,
// av1C, vpcC, AudioSpecificConfig, OpusHead, ...); vframe/aframe write the first coded
// frame after it. Both legacy FLV tags and Enhanced RTMP (ExVideoTagHeader /
// ExAudioTagHeader, single track) are understood. box:FOURCC writes the payload of the
// first ISO BMFF box of that type (found by a byte scan, good enough for ffmpeg output);
// ivf writes the first frame of an IVF file; raw copies the file. avif writes an
// AV1 still image's av1C payload followed by the first OBU of its item data (the
// sequence header), the record an Enhanced RTMP av01 SequenceStart would carry.
// MAXBYTES cuts the output.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: flvextract IN.flv vconfig|vframe|aconfig|aframe OUT [MAXBYTES]")
		os.Exit(2)
	}
	in, kind, out := os.Args[1], os.Args[2], os.Args[3]
	max := -1
	if len(os.Args) > 4 {
		n, err := strconv.Atoi(os.Args[4])
		if err != nil {
			fail(err)
		}
		max = n
	}
	b, err := os.ReadFile(in)
	if err != nil {
		fail(err)
	}
	if strings.HasPrefix(kind, "box:") || kind == "ivf" || kind == "raw" || kind == "avif" {
		payload := b
		switch kind {
		case "ivf":
			payload = ivf(b)
		case "avif":
			payload = avif(b)
		case "raw":
		default:
			payload = box(b, kind[4:])
		}
		if payload == nil {
			fail(fmt.Errorf("%s: no %s found", in, kind))
		}
		write(out, payload, max)
		return
	}
	if len(b) < 13 || string(b[:3]) != "FLV" {
		fail(fmt.Errorf("%s: not FLV", in))
	}
	p := int(binary.BigEndian.Uint32(b[5:9])) + 4
	for p+11 <= len(b) {
		typ := b[p] & 0x1f
		size := int(b[p+1])<<16 | int(b[p+2])<<8 | int(b[p+3])
		if p+11+size > len(b) {
			break
		}
		data := b[p+11 : p+11+size]
		p += 11 + size + 4
		var payload []byte
		var config, ok bool
		switch {
		case typ == 9 && (kind == "vconfig" || kind == "vframe"):
			payload, config, ok = video(data)
		case typ == 8 && (kind == "aconfig" || kind == "aframe"):
			payload, config, ok = audio(data)
		}
		// Some encoders' first sequence start is empty; the record follows later.
		if !ok || len(payload) == 0 || config != (kind == "vconfig" || kind == "aconfig") {
			continue
		}
		write(out, payload, max)
		return
	}
	fail(fmt.Errorf("%s: no %s found", in, kind))
}

func video(d []byte) (payload []byte, config, ok bool) {
	if len(d) < 1 {
		return nil, false, false
	}
	if d[0]&0x80 != 0 { // Enhanced RTMP ExVideoTagHeader
		if len(d) < 5 {
			return nil, false, false
		}
		switch d[0] & 0x0f {
		case 0: // SequenceStart
			return d[5:], true, true
		case 1: // CodedFrames: HEVC (and AVC) carry a 3-byte composition time
			if fourcc := string(d[1:5]); fourcc == "hvc1" || fourcc == "avc1" {
				if len(d) < 8 {
					return nil, false, false
				}
				return d[8:], false, true
			}
			return d[5:], false, true
		case 3: // CodedFramesX
			return d[5:], false, true
		}
		return nil, false, false
	}
	if d[0]&0x0f == 7 || d[0]&0x0f == 12 { // legacy AVC / HEVC
		if len(d) < 5 {
			return nil, false, false
		}
		return d[5:], d[1] == 0, true
	}
	return d[1:], false, true
}

func audio(d []byte) (payload []byte, config, ok bool) {
	if len(d) < 1 {
		return nil, false, false
	}
	switch d[0] >> 4 {
	case 9: // Enhanced RTMP ExAudioTagHeader
		if len(d) < 5 {
			return nil, false, false
		}
		switch d[0] & 0x0f {
		case 0:
			return d[5:], true, true
		case 1:
			return d[5:], false, true
		}
		return nil, false, false
	case 10: // AAC
		if len(d) < 2 {
			return nil, false, false
		}
		return d[2:], d[1] == 0, true
	}
	return d[1:], false, true
}

func box(b []byte, fourcc string) []byte {
	for i := 4; i+4 <= len(b); i++ {
		if string(b[i:i+4]) != fourcc {
			continue
		}
		size := int(binary.BigEndian.Uint32(b[i-4:]))
		if size >= 8 && i-4+size <= len(b) {
			return b[i+4 : i-4+size]
		}
	}
	return nil
}

func ivf(b []byte) []byte {
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		return nil
	}
	hdr := int(binary.LittleEndian.Uint16(b[6:]))
	if len(b) < hdr+12 {
		return nil
	}
	size := int(binary.LittleEndian.Uint32(b[hdr:]))
	if len(b) < hdr+12+size {
		return nil
	}
	return b[hdr+12 : hdr+12+size]
}

func avif(b []byte) []byte {
	av1c, mdat := box(b, "av1C"), box(b, "mdat")
	// The first OBU: header byte with obu_has_size_field, no extension, a one-byte size.
	if av1c == nil || len(mdat) < 2 || mdat[0]&0x06 != 0x02 || mdat[1] >= 0x80 || len(mdat) < 2+int(mdat[1]) {
		return nil
	}
	return append(append([]byte{}, av1c...), mdat[:2+int(mdat[1])]...)
}

func write(out string, payload []byte, max int) {
	if max >= 0 && len(payload) > max {
		payload = payload[:max]
	}
	if err := os.WriteFile(out, payload, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "flvextract:", err)
	os.Exit(1)
}
