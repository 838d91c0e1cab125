package probe

import "github.com/ertmp/rtmp/flv"

// legacyVideoSize reads the picture size from a legacy key frame's own header,
// for the codecs whose FLV payload starts with one (FLV 10.1 Annex E and the
// Sorenson Spark bitstream).
func legacyVideoSize(id flv.VideoCodecID, b []byte) (w, h int, ok bool) {
	switch id {
	case flv.CodecSorensonH263:
		return h263Size(b)
	case flv.CodecScreen, flv.CodecScreenV2:
		// SCREENVIDEOPACKET / SCREENV2VIDEOPACKET: BlockWidth UB[4],
		// ImageWidth UB[12], BlockHeight UB[4], ImageHeight UB[12].
		if len(b) < 4 {
			return 0, 0, false
		}
		w = int(b[0]&0x0F)<<8 | int(b[1])
		h = int(b[2]&0x0F)<<8 | int(b[3])
		return w, h, w > 0 && h > 0
	}
	return 0, 0, false
}

// h263Size parses a Sorenson H.263 picture header: PictureStartCode UB[17]
// (0x00008x), Version UB[5], TemporalReference UB[8], PictureSize UB[3], then
// for sizes 0 and 1 a custom width and height of 8 or 16 bits each.
func h263Size(b []byte) (w, h int, ok bool) {
	br := bitReader{b: b}
	if br.read(17) != 1 {
		return 0, 0, false
	}
	br.read(5 + 8)
	switch size := br.read(3); size {
	case 0:
		w, h = int(br.read(8)), int(br.read(8))
	case 1:
		w, h = int(br.read(16)), int(br.read(16))
	default:
		fixed := [7][2]int{2: {352, 288}, 3: {176, 144}, 4: {128, 96}, 5: {320, 240}, 6: {160, 120}}
		if size > 6 {
			return 0, 0, false
		}
		w, h = fixed[size][0], fixed[size][1]
	}
	return w, h, !br.short && w > 0 && h > 0
}

type bitReader struct {
	b     []byte
	pos   int
	short bool
}

func (r *bitReader) read(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		if r.pos>>3 >= len(r.b) {
			r.short = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}
