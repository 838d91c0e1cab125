//go:build ignore

// Command mksps writes an H.264 SPS that exercises the rarer SPS syntax
// (seq_scaling_matrix with explicit, default and partial lists,
// pic_order_cnt_type 1, frame cropping, emulation prevention), and splices it
// into an x264 Baseline stream in place of its SPS, so that ffprobe can check
// the size it implies.
//
//	go run mksps.go IN.h264 OUT.h264 SPS.bin LOG2_MAX_FRAME_NUM_MINUS4 MAX_NUM_REF_FRAMES
//
// IN must use pic_order_cnt_type 2 and frame_mbs_only_flag 1, as x264 Baseline
// does: pic_order_cnt_type 1 with delta_pic_order_always_zero_flag set has the
// same slice header syntax, and scaling matrices only change dequantisation.
// The last two arguments must be IN's values (see the trace_headers bsf).
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

type writer struct {
	b    []byte
	cur  byte
	nbit uint
}

func (w *writer) bit(v int) {
	w.cur = w.cur<<1 | byte(v&1)
	w.nbit++
	if w.nbit == 8 {
		w.b = append(w.b, w.cur)
		w.cur, w.nbit = 0, 0
	}
}

func (w *writer) u(n int, v uint64) {
	for i := n - 1; i >= 0; i-- {
		w.bit(int(v >> uint(i) & 1))
	}
}

func (w *writer) ue(v uint64) {
	x := v + 1
	n := 0
	for t := x; t > 1; t >>= 1 {
		n++
	}
	w.u(n, 0)
	w.u(n+1, x)
}

func (w *writer) se(v int64) {
	if v > 0 {
		w.ue(uint64(2*v - 1))
	} else {
		w.ue(uint64(-2 * v))
	}
}

// trailing writes rbsp_trailing_bits.
func (w *writer) trailing() []byte {
	w.bit(1)
	for w.nbit != 0 {
		w.bit(0)
	}
	return w.b
}

// ebsp inserts emulation prevention bytes (H.264 §7.4.1).
func ebsp(rbsp []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

func sps(log2fn, numRef uint64) []byte {
	w := &writer{}
	w.u(8, 100) // profile_idc: High
	w.u(8, 0)   // constraint flags
	w.u(8, 30)  // level_idc
	w.ue(0)     // seq_parameter_set_id
	w.ue(1)     // chroma_format_idc
	w.ue(0)     // bit_depth_luma_minus8
	w.ue(0)     // bit_depth_chroma_minus8
	w.u(1, 0)   // qpprime_y_zero_transform_bypass_flag
	w.u(1, 1)   // seq_scaling_matrix_present_flag
	// List 0: sixteen explicit deltas. List 1: delta -8 makes nextScale 0 at
	// j = 0, which selects the default list. List 6 (8x8): deltas for a while,
	// then nextScale 0 repeats the last scale. Lists 2-5 and 7: not present.
	w.u(1, 1)
	for j := 0; j < 16; j++ {
		w.se(int64(j%5 - 2))
	}
	w.u(1, 1)
	w.se(-8)
	w.u(4, 0)
	w.u(1, 1)
	last := 8
	for j := 0; j < 20; j++ {
		w.se(int64(3))
		last += 3
	}
	w.se(int64(-last)) // nextScale = 0
	w.u(1, 0)
	w.ue(log2fn)  // log2_max_frame_num_minus4
	w.ue(1)       // pic_order_cnt_type
	w.u(1, 1)     // delta_pic_order_always_zero_flag
	w.se(-3)      // offset_for_non_ref_pic
	w.se(1 << 27) // offset_for_top_to_bottom_field: zero bytes, so an emulation prevention byte
	w.ue(3)       // num_ref_frames_in_pic_order_cnt_cycle
	w.se(1)
	w.se(-1 << 20)
	w.se(7)
	w.ue(numRef) // max_num_ref_frames
	w.u(1, 0)    // gaps_in_frame_num_value_allowed_flag
	w.ue(10)     // pic_width_in_mbs_minus1: 176
	w.ue(8)      // pic_height_in_map_units_minus1: 144
	w.u(1, 1)    // frame_mbs_only_flag
	w.u(1, 1)    // direct_8x8_inference_flag
	w.u(1, 1)    // frame_cropping_flag
	w.ue(1)      // left: 2 pixels
	w.ue(2)      // right: 4 pixels
	w.ue(0)      // top
	w.ue(5)      // bottom: 10 pixels
	w.u(1, 0)    // vui_parameters_present_flag
	return append([]byte{0x67}, ebsp(w.trailing())...)
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: mksps IN.h264 OUT.h264 SPS.bin LOG2_MAX_FRAME_NUM_MINUS4 MAX_NUM_REF_FRAMES")
		os.Exit(2)
	}
	log2fn, err1 := strconv.ParseUint(os.Args[4], 10, 8)
	numRef, err2 := strconv.ParseUint(os.Args[5], 10, 8)
	in, err3 := os.ReadFile(os.Args[1])
	for _, err := range []error{err1, err2, err3} {
		if err != nil {
			fmt.Fprintln(os.Stderr, "mksps:", err)
			os.Exit(1)
		}
	}
	nal := sps(log2fn, numRef)
	if !bytes.Contains(nal, []byte{0, 0, 3}) {
		fmt.Fprintln(os.Stderr, "mksps: no emulation prevention byte in the SPS")
		os.Exit(1)
	}
	var out []byte
	sc := []byte{0, 0, 1}
	units := bytes.Split(in, sc)
	for i, u := range units {
		if i == 0 {
			continue // bytes before the first start code
		}
		u = bytes.TrimRight(u, "\x00") // the next start code's leading zero
		if len(u) > 0 && u[0]&0x1f == 7 {
			u = nal
		}
		out = append(out, 0, 0, 0, 1)
		out = append(out, u...)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mksps:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[3], nal, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mksps:", err)
		os.Exit(1)
	}
}
