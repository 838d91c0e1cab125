package codecinfo

import (
	"encoding/binary"
	"io"
	"strconv"
)

// ParseAVCConfig reads an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §5.3.3.1, the payload of an FLV AVC sequence header or an Enhanced RTMP avc1
// SequenceStart) and the first sequence parameter set in it:
//
//	configurationVersion(8)=1 AVCProfileIndication(8) profile_compatibility(8)
//	AVCLevelIndication(8) reserved(6) lengthSizeMinusOne(2)
//	reserved(3) numOfSequenceParameterSets(5)
//	{ sequenceParameterSetLength(16) sequenceParameterSetNALUnit } ...
//	numOfPictureParameterSets(8) { pictureParameterSetLength(16) NALUnit } ...
//
// A record without an SPS yields the profile and level of the record itself.
func ParseAVCConfig(b []byte) (Video, error) {
	if len(b) < 6 {
		return Video{}, wrap("avc: record", io.ErrUnexpectedEOF)
	}
	if b[0] != 1 {
		return Video{}, unsupported("avc: record version %d", b[0])
	}
	// Walk both parameter set arrays so that a cut record is an error, keeping
	// the first SPS.
	var sps []byte
	p := 5
	for array := 0; array < 2; array++ {
		if len(b) < p+1 {
			return Video{}, wrap("avc: record", io.ErrUnexpectedEOF)
		}
		n := int(b[p])
		if array == 0 {
			n &= 0x1f
		}
		p++
		for i := 0; i < n; i++ {
			if len(b) < p+2 {
				return Video{}, wrap("avc: record: parameter set", io.ErrUnexpectedEOF)
			}
			size := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if len(b) < p+size {
				return Video{}, wrap("avc: record: parameter set", io.ErrUnexpectedEOF)
			}
			if array == 0 && sps == nil {
				sps = b[p : p+size]
			}
			p += size
		}
	}
	// Profiles other than Baseline, Main and Extended append chroma_format(8)
	// bit_depth_luma_minus8(8) bit_depth_chroma_minus8(8)
	// numOfSequenceParameterSetExt(8) and the SPS extensions (the 2004 edition
	// listed 100, 110, 122 and 144; FFmpeg writes them for 244 too). Many
	// muxers leave all of it out, so only a part of it is an error.
	switch b[1] {
	case 66, 77, 88:
	default:
		if rest := len(b) - p; rest > 0 {
			if rest < 4 {
				return Video{}, wrap("avc: record: high profile fields", io.ErrUnexpectedEOF)
			}
			n := int(b[p+3])
			p += 4
			for i := 0; i < n; i++ {
				if len(b) < p+2 || len(b) < p+2+int(binary.BigEndian.Uint16(b[p:])) {
					return Video{}, wrap("avc: record: sps extension", io.ErrUnexpectedEOF)
				}
				p += 2 + int(binary.BigEndian.Uint16(b[p:]))
			}
		}
	}
	if sps == nil {
		return Video{Codec: "h264", Profile: avcProfile(int(b[1]), b[2]), Level: int(b[3])}, nil
	}
	return ParseAVCSPS(sps)
}

// ParseAVCSPS reads an H.264 sequence parameter set NAL unit, header byte
// included, as far as the frame cropping fields (ITU-T H.264 §7.3.2.1.1).
func ParseAVCSPS(nal []byte) (Video, error) {
	if len(nal) < 1 {
		return Video{}, wrap("avc: sps", io.ErrUnexpectedEOF)
	}
	if t := nal[0] & 0x1f; t != 7 {
		return Video{}, invalid("avc: nal_unit_type %d is not an SPS", t)
	}
	v, err := parseAVCSPS(newRBSPReader(nal[1:]))
	return v, wrap("avc: sps", err)
}

func parseAVCSPS(r *bitReader) (Video, error) {
	profile := r.ui(8)
	constraints := byte(r.u(8))
	level := r.ui(8)
	r.uei("seq_parameter_set_id", 31)

	chroma, separate, depth := 1, false, 8
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma = r.uei("chroma_format_idc", 3)
		if chroma == 3 {
			separate = r.flag()
		}
		depth = 8 + r.uei("bit_depth_luma_minus8", 6)
		r.uei("bit_depth_chroma_minus8", 6)
		r.skip(1)     // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists && r.err == nil; i++ {
				if r.flag() { // seq_scaling_list_present_flag[i]
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	r.uei("log2_max_frame_num_minus4", 12)
	switch r.uei("pic_order_cnt_type", 2) {
	case 0:
		r.uei("log2_max_pic_order_cnt_lsb_minus4", 12)
	case 1:
		r.skip(1) // delta_pic_order_always_zero_flag
		r.se()    // offset_for_non_ref_pic
		r.se()    // offset_for_top_to_bottom_field
		n := r.uei("num_ref_frames_in_pic_order_cnt_cycle", 255)
		for i := 0; i < n && r.err == nil; i++ {
			r.se() // offset_for_ref_frame[i]
		}
	}
	r.ue()    // max_num_ref_frames
	r.skip(1) // gaps_in_frame_num_value_allowed_flag
	wmbs := r.uei("pic_width_in_mbs_minus1", maxDimension/16) + 1
	hmap := r.uei("pic_height_in_map_units_minus1", maxDimension/16) + 1
	frameMBsOnly := r.flag()
	if !frameMBsOnly {
		r.skip(1) // mb_adaptive_frame_field_flag
	}
	r.skip(1) // direct_8x8_inference_flag
	var cl, cr, ct, cb int
	if r.flag() { // frame_cropping_flag
		cl = r.uei("frame_crop_left_offset", maxDimension)
		cr = r.uei("frame_crop_right_offset", maxDimension)
		ct = r.uei("frame_crop_top_offset", maxDimension)
		cb = r.uei("frame_crop_bottom_offset", maxDimension)
	}
	if r.err != nil {
		return Video{}, r.err
	}

	// Frame size and crop units, H.264 §7.4.2.1.1 (equations 7-18 to 7-21).
	fieldMul := 2
	if frameMBsOnly {
		fieldMul = 1
	}
	arrayType := chroma
	if separate {
		arrayType = 0
	}
	unitX, unitY := 1, fieldMul
	switch arrayType {
	case 1:
		unitX, unitY = 2, 2*fieldMul
	case 2:
		unitX = 2
	}
	w := wmbs*16 - unitX*(cl+cr)
	h := fieldMul*hmap*16 - unitY*(ct+cb)
	if w <= 0 || h <= 0 || w > maxDimension || h > maxDimension {
		return Video{}, invalid("avc: sps: cropped size %dx%d", w, h)
	}
	return Video{
		Codec:        "h264",
		Width:        w,
		Height:       h,
		Profile:      avcProfile(profile, constraints),
		Level:        level,
		BitDepth:     depth,
		ChromaFormat: chromaName(chroma),
	}, nil
}

// skipScalingList reads past scaling_list() (H.264 §7.3.2.1.1.1): deltas follow
// until one brings nextScale to 0, after which the rest repeat the last scale.
func skipScalingList(r *bitReader, size int) {
	last, next := 8, 8
	for j := 0; j < size && r.err == nil; j++ {
		if next != 0 {
			d := r.se()
			if d < -128 || d > 127 {
				r.fail(invalid("avc: sps: delta_scale %d", d))
				return
			}
			next = (last + int(d) + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// avcProfile names profile_idc as FFmpeg does, using the constraint flags
// (constraint_set0_flag is the most significant bit) for Constrained Baseline
// and the Intra profiles (H.264 Annex A.2).
func avcProfile(idc int, constraints byte) string {
	set1 := constraints&0x40 != 0
	set3 := constraints&0x10 != 0
	switch idc {
	case 66:
		if set1 {
			return "Constrained Baseline"
		}
		return "Baseline"
	case 77:
		return "Main"
	case 88:
		return "Extended"
	case 100:
		return "High"
	case 110:
		if set3 {
			return "High 10 Intra"
		}
		return "High 10"
	case 122:
		if set3 {
			return "High 4:2:2 Intra"
		}
		return "High 4:2:2"
	case 244:
		if set3 {
			return "High 4:4:4 Intra"
		}
		return "High 4:4:4 Predictive"
	case 44:
		return "CAVLC 4:4:4"
	case 83:
		return "Scalable Baseline"
	case 86:
		return "Scalable High"
	case 118:
		return "Multiview High"
	case 128:
		return "Stereo High"
	case 134:
		return "MFC High"
	case 135:
		return "MFC Depth High"
	case 138:
		return "Multiview Depth High"
	case 139:
		return "Enhanced Multiview Depth High"
	}
	return strconv.Itoa(idc)
}
