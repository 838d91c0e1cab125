package codecinfo

import (
	"io"
	"strconv"
)

// ParseAV1Config reads an AV1CodecConfigurationRecord (AV1 Codec ISO Media File
// Format Binding §2.3.3, the payload of an Enhanced RTMP av01 SequenceStart) and
// the sequence header OBU among its configOBUs:
//
//	marker(1)=1 version(7)=1
//	seq_profile(3) seq_level_idx_0(5)
//	seq_tier_0(1) high_bitdepth(1) twelve_bit(1) monochrome(1)
//	chroma_subsampling_x(1) chroma_subsampling_y(1) chroma_sample_position(2)
//	reserved(3) initial_presentation_delay_present(1) initial_presentation_delay_minus_one(4)
//	configOBUs
//
// Without a sequence header OBU the result is what the four bytes give, with
// Width and Height 0. With one, its values win.
func ParseAV1Config(b []byte) (Video, error) {
	if len(b) < 4 {
		return Video{}, wrap("av1: record", io.ErrUnexpectedEOF)
	}
	if b[0] != 0x81 {
		return Video{}, unsupported("av1: record marker/version byte %#02x", b[0])
	}
	profile := int(b[1] >> 5)
	depth := 8
	if b[2]&0x40 != 0 { // high_bitdepth
		depth = 10
		if b[2]&0x20 != 0 { // twelve_bit
			depth = 12
		}
	}
	rec := Video{
		Codec:        "av1",
		Profile:      av1Profile(profile),
		Level:        int(b[1] & 0x1f),
		Tier:         tierName(b[2]&0x80 != 0),
		BitDepth:     depth,
		ChromaFormat: av1Chroma(b[2]&0x10 != 0, b[2]&0x08 != 0, b[2]&0x04 != 0),
	}
	seq, err := findAV1SequenceHeader(b[4:])
	if err != nil {
		return Video{}, err
	}
	if seq == nil {
		return rec, nil
	}
	return ParseAV1SequenceHeader(seq)
}

// findAV1SequenceHeader walks low-overhead OBUs (AV1 §5.3) to the end, so that
// a cut record is an error, and returns the payload of the first
// OBU_SEQUENCE_HEADER, or nil if there is none.
func findAV1SequenceHeader(b []byte) (seq []byte, err error) {
	for len(b) > 0 {
		h := b[0]
		if h&0x80 != 0 {
			return nil, invalid("av1: obu_forbidden_bit set")
		}
		typ := h >> 3 & 0x0f
		hdr := 1
		if h&0x04 != 0 { // obu_extension_flag
			hdr = 2
		}
		if len(b) < hdr {
			return nil, wrap("av1: obu header", io.ErrUnexpectedEOF)
		}
		var size int
		if h&0x02 != 0 { // obu_has_size_field
			v, n, err := leb128(b[hdr:])
			if err != nil {
				return nil, err
			}
			hdr += n
			if uint64(len(b)-hdr) < v {
				return nil, wrap("av1: obu", io.ErrUnexpectedEOF)
			}
			size = int(v)
		} else {
			size = len(b) - hdr // the OBU runs to the end of the record
		}
		if typ == 1 && seq == nil {
			seq = b[hdr : hdr+size]
		}
		b = b[hdr+size:]
	}
	return seq, nil
}

// leb128 reads an unsigned LEB128 value of at most 8 bytes and 2^32 - 1 (AV1 §4.10.5).
func leb128(b []byte) (v uint64, n int, err error) {
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0, wrap("av1: leb128", io.ErrUnexpectedEOF)
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, 0, invalid("av1: leb128 value %d", v)
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, invalid("av1: leb128 longer than 8 bytes")
}

// ParseAV1SequenceHeader reads the payload of a sequence header OBU (AV1
// §5.5.1) through color_config(), the OBU header and size already removed.
func ParseAV1SequenceHeader(b []byte) (Video, error) {
	v, err := parseAV1SequenceHeader(newBitReader(b))
	return v, wrap("av1: sequence header", err)
}

func parseAV1SequenceHeader(r *bitReader) (Video, error) {
	profile := r.ui(3)
	r.skip(1) // still_picture
	reduced := r.flag()
	var level int
	var tier bool
	if reduced {
		level = r.ui(5)
	} else {
		decoderModel := false
		bufferDelayLen := 0
		if r.flag() { // timing_info_present_flag
			r.skip(32 + 32) // num_units_in_display_tick, time_scale
			if r.flag() {   // equal_picture_interval
				skipUVLC(r) // num_ticks_per_picture_minus_1
			}
			decoderModel = r.flag()
			if decoderModel { // decoder_model_info()
				bufferDelayLen = r.ui(5) + 1
				r.skip(32 + 5 + 5) // num_units_in_decoding_tick, two length fields
			}
		}
		delayPresent := r.flag() // initial_display_delay_present_flag
		ops := r.ui(5) + 1
		for i := 0; i < ops && r.err == nil; i++ {
			r.skip(12) // operating_point_idc[i]
			l := r.ui(5)
			t := false
			if l > 7 {
				t = r.flag()
			}
			if i == 0 { // operating point 0 is the one choose_operating_point() defaults to
				level, tier = l, t
			}
			if decoderModel && r.flag() { // decoder_model_present_for_this_op[i]
				r.skip(2*bufferDelayLen + 1) // operating_parameters_info(i)
			}
			if delayPresent && r.flag() {
				r.skip(4) // initial_display_delay_minus_1[i]
			}
		}
	}
	wbits := r.ui(4) + 1
	hbits := r.ui(4) + 1
	w := r.ui(wbits) + 1
	h := r.ui(hbits) + 1

	// On to color_config(), past the sequence-level tool flags.
	if !reduced && r.flag() { // frame_id_numbers_present_flag
		r.skip(4 + 3)
	}
	r.skip(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !reduced {
		r.skip(4) // interintra, masked compound, warped motion, dual filter
		orderHint := r.flag()
		if orderHint {
			r.skip(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceSCT := 2  // SELECT_SCREEN_CONTENT_TOOLS
		if !r.flag() { // seq_choose_screen_content_tools
			forceSCT = r.ui(1)
		}
		if forceSCT > 0 && !r.flag() { // seq_choose_integer_mv
			r.skip(1) // seq_force_integer_mv
		}
		if orderHint {
			r.skip(3) // order_hint_bits_minus_1
		}
	}
	r.skip(3) // enable_superres, enable_cdef, enable_restoration

	// color_config(), AV1 §5.5.2.
	depth := 8
	if r.flag() { // high_bitdepth
		depth = 10
		if profile == 2 && r.flag() { // twelve_bit
			depth = 12
		}
	}
	mono := false
	if profile != 1 {
		mono = r.flag()
	}
	cp, tc, mc := 2, 2, 2 // CP_UNSPECIFIED, TC_UNSPECIFIED, MC_UNSPECIFIED
	if r.flag() {         // color_description_present_flag
		cp, tc, mc = r.ui(8), r.ui(8), r.ui(8)
	}
	var chroma string
	switch {
	case mono:
		chroma = "4:0:0"
	case cp == 1 && tc == 13 && mc == 0: // BT.709 primaries, sRGB, identity matrix
		chroma = "4:4:4"
	default:
		r.skip(1) // color_range
		switch profile {
		case 0:
			chroma = "4:2:0"
		case 1:
			chroma = "4:4:4"
		default:
			sx, sy := true, false
			if depth == 12 {
				sx = r.flag()
				if sx {
					sy = r.flag()
				}
			}
			chroma = av1Chroma(false, sx, sy)
		}
	}
	if r.err != nil {
		return Video{}, r.err
	}
	if profile > 2 {
		return Video{}, invalid("av1: seq_profile %d", profile)
	}
	if w > maxDimension || h > maxDimension {
		return Video{}, invalid("av1: max frame size %dx%d", w, h)
	}
	return Video{
		Codec:        "av1",
		Width:        w,
		Height:       h,
		Profile:      av1Profile(profile),
		Level:        level,
		Tier:         tierName(tier),
		BitDepth:     depth,
		ChromaFormat: chroma,
	}, nil
}

// skipUVLC reads past a uvlc() value (AV1 §4.10.3).
func skipUVLC(r *bitReader) {
	lz := 0
	for r.err == nil && !r.flag() {
		lz++
	}
	if lz < 32 {
		r.skip(lz)
	}
}

// av1Profile names seq_profile as ffprobe does (AV1 Annex A.2).
func av1Profile(p int) string {
	switch p {
	case 0:
		return "Main"
	case 1:
		return "High"
	case 2:
		return "Professional"
	}
	return strconv.Itoa(p)
}

func av1Chroma(mono, sx, sy bool) string {
	switch {
	case mono:
		return "4:0:0"
	case sx && sy:
		return "4:2:0"
	case sx:
		return "4:2:2"
	}
	return "4:4:4"
}
