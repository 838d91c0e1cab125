package fmp4_test

import (
	"fmt"
	"strings"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
)

// Build the initialization segment of an H.264 track from the record that
// an FLV AVC sequence header carries (here libx264's, 1280x720 High), then
// one fragment holding a key frame decoded at 0 ms and the frame after it,
// and print the boxes.
func Example() {
	record := []byte{
		0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
		0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x83,
		0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
	}
	track, err := fmp4.NewTrack(1, flv.FourCCAVC, record, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(track.Video.Width, track.Video.Height, track.Timescale)
	out, err := fmp4.AppendInit(nil, track)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Length-prefixed NAL units, as FLV carries them: an IDR slice, then a
	// P slice shown 40 ms later.
	idr := []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}
	p := []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}
	track.Add(fmp4.Sample{Time: 0, CompositionTime: 40, Key: true, Data: idr})
	track.Add(fmp4.Sample{Time: 40, CompositionTime: 40, Data: p})
	if out, err = track.AppendFragment(out, 1); err != nil {
		fmt.Println(err)
		return
	}

	boxes, err := fmp4.ParseBoxes(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	var walk func(bs []fmp4.Box, depth int)
	walk = func(bs []fmp4.Box, depth int) {
		for _, b := range bs {
			fmt.Printf("%s%v %d\n", strings.Repeat("  ", depth), b.Type, b.Size())
			walk(b.Children, depth+1)
		}
	}
	walk(boxes, 0)
	// Output:
	// 1280 720 90000
	// ftyp 24
	// moov 638
	//   mvhd 108
	//   trak 482
	//     tkhd 92
	//     mdia 382
	//       mdhd 32
	//       hdlr 45
	//       minf 297
	//         vmhd 20
	//         dinf 36
	//           dref 28
	//             url  12
	//         stbl 233
	//           stsd 157
	//             avc1 141
	//               avcC 55
	//           stts 16
	//           stsc 16
	//           stsz 20
	//           stco 16
	//   mvex 40
	//     trex 32
	// moof 116
	//   mfhd 16
	//   traf 92
	//     tfhd 24
	//     tfdt 20
	//     trun 40
	// mdat 23
}
