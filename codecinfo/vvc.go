package codecinfo

import "strconv"

// ParseVVCConfig reads a VVCDecoderConfigurationRecord (ISO/IEC 14496-15:2022
// §11.2.4.2) as far as its native PTL record and maximum picture size:
//
//	reserved(5)='11111'b LengthSizeMinusOne(2) ptl_present_flag(1)
//	if (ptl_present_flag) {
//	  ols_idx(9) num_sublayers(3) constant_frame_rate(2) chroma_format_idc(2)
//	  bit_depth_minus8(3) reserved(5)='11111'b
//	  VvcPTLRecord(num_sublayers)
//	  max_picture_width(16) max_picture_height(16) avg_frame_rate(16)
//	}
//	num_of_arrays(8) ...
//
//	VvcPTLRecord(num_sublayers):
//	reserved(2)=0 num_bytes_constraint_info(6)
//	general_profile_idc(7) general_tier_flag(1) general_level_idc(8)
//	ptl_frame_only_constraint_flag(1) ptl_multilayer_enabled_flag(1)
//	general_constraint_info(8*num_bytes_constraint_info - 2)
//	ptl_sublayer_level_present_flag[num_sublayers-2..0] ptl_reserved_zero_bit...
//	sublayer_level_idc[i] for each present flag
//	ptl_num_sub_profiles(8) general_sub_profile_idc(32)...
//
// This is best effort: the SPS in the arrays is not parsed, so a record without
// the PTL part yields only the codec name. Width and Height are the maximum
// picture size, which is the picture size for single-resolution streams. The
// 4-byte FullBox version and flags that precede the record in an MP4 vvcC box
// are skipped when present.
func ParseVVCConfig(b []byte) (Video, error) {
	if len(b) >= 5 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 {
		b = b[4:]
	}
	v, err := parseVVCConfig(newBitReader(b))
	return v, wrap("vvc: record", err)
}

func parseVVCConfig(r *bitReader) (Video, error) {
	r.skip(5 + 2)  // reserved, LengthSizeMinusOne
	if !r.flag() { // ptl_present_flag
		if err := checkVVCArrays(r); err != nil {
			return Video{}, err
		}
		return Video{Codec: "vvc"}, nil
	}
	r.skip(9) // ols_idx
	sublayers := r.ui(3)
	r.skip(2) // constant_frame_rate
	chroma := r.ui(2)
	depth := 8 + r.ui(3)
	r.skip(5) // reserved

	// VvcPTLRecord.
	r.skip(2)
	ncib := r.ui(6)
	profile := r.ui(7)
	high := r.flag()
	level := r.ui(8)
	r.skip(2) // ptl_frame_only_constraint_flag, ptl_multilayer_enabled_flag
	if ncib > 0 {
		r.skip(8*ncib - 2) // general_constraint_info
	}
	if sublayers > 1 {
		// ptl_sublayer_level_present_flag[i] for i = num_sublayers-2 down to 0,
		// then reserved bits up to a byte: eight bits in all.
		present := r.ui(8) >> (8 - (sublayers - 1))
		for i := sublayers - 2; i >= 0; i-- {
			if present&(1<<i) != 0 {
				r.skip(8) // sublayer_level_idc[i]
			}
		}
	}
	subProfiles := r.ui(8)
	r.skip(32 * subProfiles) // general_sub_profile_idc[j]
	w := r.ui(16)
	h := r.ui(16)
	r.skip(16) // avg_frame_rate
	if r.err != nil {
		return Video{}, r.err
	}
	if err := checkVVCArrays(r); err != nil {
		return Video{}, err
	}
	return Video{
		Codec:        "vvc",
		Width:        w,
		Height:       h,
		Profile:      vvcProfile(profile),
		Level:        level,
		Tier:         tierName(high),
		BitDepth:     depth,
		ChromaFormat: chromaName(chroma),
	}, nil
}

// vvcProfile names general_profile_idc as FFmpeg does (H.266 Annex A.3).
func vvcProfile(idc int) string {
	switch idc {
	case 1:
		return "Main 10"
	case 65:
		return "Main 10 Still Picture"
	case 33:
		return "Main 10 4:4:4"
	case 97:
		return "Main 10 4:4:4 Still Picture"
	case 17:
		return "Multilayer Main 10"
	case 49:
		return "Multilayer Main 10 4:4:4"
	}
	return strconv.Itoa(idc)
}

// checkVVCArrays reads past the NAL unit arrays so that a cut record is an error.
// DCI (13) and OPI (12) arrays hold one NAL unit and no num_nalus.
func checkVVCArrays(r *bitReader) error {
	narrays := r.ui(8)
	for i := 0; i < narrays && r.err == nil; i++ {
		typ := r.ui(8) & 0x1f
		n := 1
		if typ != 12 && typ != 13 {
			n = r.ui(16)
		}
		for j := 0; j < n && r.err == nil; j++ {
			r.skip(8 * r.ui(16))
		}
	}
	return r.err
}
