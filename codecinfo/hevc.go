package codecinfo

import (
	"encoding/binary"
	"io"
	"strconv"
)

// hvcCHeaderLen is the fixed part of an HEVCDecoderConfigurationRecord, up to
// and including numOfArrays.
const hvcCHeaderLen = 23

// ParseHEVCConfig reads an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §8.3.3.1, the payload of an Enhanced RTMP hvc1 SequenceStart) and the first
// sequence parameter set in its arrays:
//
//	configurationVersion(8)=1
//	general_profile_space(2) general_tier_flag(1) general_profile_idc(5)
//	general_profile_compatibility_flags(32) general_constraint_indicator_flags(48)
//	general_level_idc(8) reserved(4) min_spatial_segmentation_idc(12)
//	reserved(6) parallelismType(2) reserved(6) chromaFormat(2)
//	reserved(5) bitDepthLumaMinus8(3) reserved(5) bitDepthChromaMinus8(3)
//	avgFrameRate(16) constantFrameRate(2) numTemporalLayers(3)
//	temporalIdNested(1) lengthSizeMinusOne(2) numOfArrays(8)
//	{ array_completeness(1) reserved(1) NAL_unit_type(6) numNalus(16)
//	  { nalUnitLength(16) nalUnit } ... } ...
//
// A record without an SPS yields what the record itself gives (no size).
func ParseHEVCConfig(b []byte) (Video, error) {
	if len(b) < hvcCHeaderLen {
		return Video{}, wrap("hevc: record", io.ErrUnexpectedEOF)
	}
	if b[0] != 1 {
		return Video{}, unsupported("hevc: record version %d", b[0])
	}
	rec := Video{
		Codec:        "hevc",
		Profile:      hevcProfile(int(b[1]&0x1f), binary.BigEndian.Uint32(b[2:])),
		Level:        int(b[12]),
		Tier:         tierName(b[1]&0x20 != 0),
		ChromaFormat: chromaName(int(b[16] & 3)),
		BitDepth:     8 + int(b[17]&7),
	}
	// Walk all arrays so that a cut record is an error, keeping the first SPS.
	var sps []byte
	narrays := int(b[22])
	p := hvcCHeaderLen
	for i := 0; i < narrays; i++ {
		if len(b) < p+3 {
			return Video{}, wrap("hevc: record: array", io.ErrUnexpectedEOF)
		}
		typ := b[p] & 0x3f
		nnalus := int(binary.BigEndian.Uint16(b[p+1:]))
		p += 3
		for j := 0; j < nnalus; j++ {
			if len(b) < p+2 {
				return Video{}, wrap("hevc: record: nal unit", io.ErrUnexpectedEOF)
			}
			n := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if len(b) < p+n {
				return Video{}, wrap("hevc: record: nal unit", io.ErrUnexpectedEOF)
			}
			// Only a base-layer SPS has the syntax ParseHEVCSPS reads.
			if typ == 33 && sps == nil && n >= 2 && b[p+1]>>3 == 0 {
				sps = b[p : p+n]
			}
			p += n
		}
	}
	if sps == nil {
		return rec, nil
	}
	return ParseHEVCSPS(sps)
}

// ParseHEVCSPS reads an H.265 sequence parameter set NAL unit of the base layer,
// header included, as far as the bit depths (ITU-T H.265 §7.3.2.2.1).
func ParseHEVCSPS(nal []byte) (Video, error) {
	if len(nal) < 2 {
		return Video{}, wrap("hevc: sps", io.ErrUnexpectedEOF)
	}
	if t := nal[0] >> 1 & 0x3f; t != 33 {
		return Video{}, invalid("hevc: nal_unit_type %d is not an SPS", t)
	}
	if layer := (nal[0]&1)<<5 | nal[1]>>3; layer != 0 {
		return Video{}, unsupported("hevc: sps of layer %d", layer)
	}
	v, err := parseHEVCSPS(newRBSPReader(nal[2:]))
	return v, wrap("hevc: sps", err)
}

func parseHEVCSPS(r *bitReader) (Video, error) {
	r.skip(4) // sps_video_parameter_set_id
	subLayers := r.ui(3)
	r.skip(1) // sps_temporal_id_nesting_flag
	if subLayers > 6 {
		return Video{}, invalid("hevc: sps: sps_max_sub_layers_minus1 %d", subLayers)
	}

	// profile_tier_level(1, sps_max_sub_layers_minus1), H.265 §7.3.3.
	r.skip(2) // general_profile_space
	high := r.flag()
	profile := r.ui(5)
	compat := uint32(r.u(32))
	r.skip(48) // progressive..frame_only, constraint flags, general_inbld_flag
	level := r.ui(8)
	var profilePresent, levelPresent [8]bool
	for i := 0; i < subLayers; i++ {
		profilePresent[i] = r.flag()
		levelPresent[i] = r.flag()
	}
	if subLayers > 0 {
		r.skip(2 * (8 - subLayers)) // reserved_zero_2bits
	}
	for i := 0; i < subLayers; i++ {
		if profilePresent[i] {
			r.skip(88) // sub_layer profile space ... sub_layer_inbld_flag
		}
		if levelPresent[i] {
			r.skip(8) // sub_layer_level_idc
		}
	}

	r.uei("sps_seq_parameter_set_id", 15)
	chroma := r.uei("chroma_format_idc", 3)
	separate := false
	if chroma == 3 {
		separate = r.flag()
	}
	w := r.uei("pic_width_in_luma_samples", maxDimension)
	h := r.uei("pic_height_in_luma_samples", maxDimension)
	var cl, cr, ct, cb int
	if r.flag() { // conformance_window_flag
		cl = r.uei("conf_win_left_offset", maxDimension)
		cr = r.uei("conf_win_right_offset", maxDimension)
		ct = r.uei("conf_win_top_offset", maxDimension)
		cb = r.uei("conf_win_bottom_offset", maxDimension)
	}
	depth := 8 + r.uei("bit_depth_luma_minus8", 8)
	r.uei("bit_depth_chroma_minus8", 8)
	if r.err != nil {
		return Video{}, r.err
	}

	// The conformance window is in chroma sample units, SubWidthC x SubHeightC
	// (H.265 §7.4.3.2.1, Table 6-1); with separate colour planes ChromaArrayType
	// is 0 and the units are luma samples.
	subW, subH := 1, 1
	if !separate {
		switch chroma {
		case 1:
			subW, subH = 2, 2
		case 2:
			subW = 2
		}
	}
	w -= subW * (cl + cr)
	h -= subH * (ct + cb)
	if w <= 0 || h <= 0 {
		return Video{}, invalid("hevc: sps: cropped size %dx%d", w, h)
	}
	return Video{
		Codec:        "hevc",
		Width:        w,
		Height:       h,
		Profile:      hevcProfile(profile, compat),
		Level:        level,
		Tier:         tierName(high),
		BitDepth:     depth,
		ChromaFormat: chromaName(chroma),
	}, nil
}

// hevcProfile names general_profile_idc as FFmpeg does (H.265 Annex A.3). When
// the idc is 0, the lowest profile flagged in general_profile_compatibility_flag
// (bit 31 is flag[0]) stands in, as the spec lets decoders infer.
func hevcProfile(idc int, compat uint32) string {
	if idc == 0 {
		for j := 1; j < 32; j++ {
			if compat&(1<<(31-j)) != 0 {
				idc = j
				break
			}
		}
	}
	switch idc {
	case 1:
		return "Main"
	case 2:
		return "Main 10"
	case 3:
		return "Main Still Picture"
	case 4:
		return "Rext"
	case 6:
		return "Multiview Main"
	case 7:
		return "Scalable Main"
	case 9:
		return "SCC"
	}
	return strconv.Itoa(idc)
}
