package codecinfo

import "io"

var (
	// ac3Rates is indexed by fscod (ATSC A/52 Table 5.6); 3 is reserved.
	ac3Rates = [3]int{48000, 44100, 32000}
	// eac3Rates2 is indexed by fscod2 when fscod is 3 (A/52 Table E.2.3).
	eac3Rates2 = [3]int{24000, 22050, 16000}
	// ac3FullChannels is nfchans by acmod (A/52 Table 5.8).
	ac3FullChannels = [8]int{2, 1, 2, 3, 3, 4, 4, 5}
	// ac3BitRates is the nominal rate in kbit/s by frmsizecod/2 (A/52 Table 5.18).
	ac3BitRates = [19]int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640}
	// eac3Blocks is the number of audio blocks by numblkscod (A/52 Table E.2.4).
	eac3Blocks = [4]int{1, 2, 3, 6}
)

// ParseAC3Frame reads the syncinfo and the start of the bsi of an AC-3 sync
// frame (ATSC A/52 §5.3.1, §5.3.2), the start of an Enhanced RTMP ac-3 coded
// frame:
//
//	syncword(16)=0x0b77 crc1(16) fscod(2) frmsizecod(6)
//	bsid(5) bsmod(3) acmod(3) [cmixlev(2)] [surmixlev(2)] [dsurmod(2)] lfeon(1)
//
// bsid 9 and 10, a low-sample-rate variant that halves and quarters the rates
// (FFmpeg decodes it too), are accepted; bsid 11 to 16 is E-AC-3, for
// ParseEAC3Frame.
func ParseAC3Frame(b []byte) (Audio, error) {
	a, err := parseAC3(newBitReader(b))
	return a, wrap("ac3: frame", err)
}

func parseAC3(r *bitReader) (Audio, error) {
	if sync := r.u(16); r.err == nil && sync != 0x0b77 {
		return Audio{}, invalid("ac3: syncword %#04x", sync)
	}
	r.skip(16) // crc1
	fscod := r.ui(2)
	frmsizecod := r.ui(6)
	bsid := r.ui(5)
	r.skip(3) // bsmod
	acmod := r.ui(3)
	if acmod&1 != 0 && acmod != 1 {
		r.skip(2) // cmixlev
	}
	if acmod&4 != 0 {
		r.skip(2) // surmixlev
	}
	if acmod == 2 {
		r.skip(2) // dsurmod
	}
	lfe := r.ui(1)
	if r.err != nil {
		return Audio{}, r.err
	}
	if bsid > 10 {
		return Audio{}, invalid("ac3: bsid %d is not AC-3", bsid)
	}
	if fscod == 3 {
		return Audio{}, invalid("ac3: fscod 3")
	}
	if frmsizecod/2 >= len(ac3BitRates) {
		return Audio{}, invalid("ac3: frmsizecod %d", frmsizecod)
	}
	shift := 0
	if bsid > 8 {
		shift = bsid - 8
	}
	return Audio{
		Codec:      "ac3",
		SampleRate: ac3Rates[fscod] >> shift,
		Channels:   ac3FullChannels[acmod] + lfe,
		BitRate:    ac3BitRates[frmsizecod/2] * 1000 >> shift,
	}, nil
}

// ParseEAC3Frame reads the start of an E-AC-3 sync frame's bsi (ATSC A/52
// §E.2.2.2), the start of an Enhanced RTMP ec-3 coded frame:
//
//	syncword(16)=0x0b77 strmtyp(2) substreamid(3) frmsiz(11)
//	fscod(2) [fscod2(2) if fscod is 3, else numblkscod(2)] acmod(3) lfeon(1) bsid(5)
//
// The result describes the frame's own substream; channels that dependent
// substreams add (beyond 5.1) are not counted.
func ParseEAC3Frame(b []byte) (Audio, error) {
	if len(b) < 6 {
		return Audio{}, wrap("eac3: frame", io.ErrUnexpectedEOF)
	}
	r := newBitReader(b)
	if sync := r.u(16); sync != 0x0b77 {
		return Audio{}, invalid("eac3: syncword %#04x", sync)
	}
	strmtyp := r.ui(2)
	r.skip(3) // substreamid
	frameBytes := (r.ui(11) + 1) * 2
	fscod := r.ui(2)
	var rate, blocks int
	if fscod == 3 {
		fscod2 := r.ui(2)
		if fscod2 == 3 {
			return Audio{}, invalid("eac3: fscod2 3")
		}
		rate, blocks = eac3Rates2[fscod2], 6
	} else {
		rate, blocks = ac3Rates[fscod], eac3Blocks[r.ui(2)]
	}
	acmod := r.ui(3)
	lfe := r.ui(1)
	bsid := r.ui(5)
	if strmtyp == 3 {
		return Audio{}, invalid("eac3: strmtyp 3")
	}
	if bsid <= 10 || bsid > 16 {
		return Audio{}, invalid("eac3: bsid %d is not E-AC-3", bsid)
	}
	return Audio{
		Codec:      "eac3",
		SampleRate: rate,
		Channels:   ac3FullChannels[acmod] + lfe,
		// A frame of frameBytes lasts blocks*256 samples (A/52 §E.1.3.1).
		BitRate: frameBytes * 8 * rate / (blocks * 256),
	}, nil
}
