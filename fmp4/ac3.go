package fmp4

import (
	"fmt"
	"io"
)

// bitReader reads big-endian bit fields; reading past the end sets eof and
// returns zeros.
type bitReader struct {
	b   []byte
	pos int // in bits
	eof bool
}

func (r *bitReader) u(n int) int {
	v := 0
	for ; n > 0; n-- {
		i := r.pos >> 3
		if i >= len(r.b) {
			r.eof = true
			return 0
		}
		v = v<<1 | int(r.b[i]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

// bitWriter packs big-endian bit fields into bytes.
type bitWriter struct {
	dst  []byte
	acc  uint64
	nacc int
}

func (w *bitWriter) put(n int, v int) {
	w.acc = w.acc<<n | uint64(v)&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.dst = append(w.dst, byte(w.acc>>w.nacc))
	}
}

// ac3Info is what an AC3SpecificBox says (ETSI TS 102 366 §F.4).
type ac3Info struct {
	fscod, bsid, bsmod, acmod, lfeon, bitRateCode int
}

// parseAC3 reads the AC-3 syncinfo and the start of the bsi (ATSC A/52
// §5.3.1, §5.3.2; ETSI TS 102 366 §4.4.1, §4.4.2):
//
//	syncword(16)=0x0b77 crc1(16) fscod(2) frmsizecod(6)
//	bsid(5) bsmod(3) acmod(3) [cmixlev(2)] [surmixlev(2)] [dsurmod(2)] lfeon(1)
func parseAC3(frame []byte) (ac3Info, error) {
	r := bitReader{b: frame}
	if r.u(16) != 0x0b77 {
		return ac3Info{}, fmt.Errorf("fmp4: ac-3: no syncword: %w", ErrInvalid)
	}
	r.u(16) // crc1
	var a ac3Info
	a.fscod = r.u(2)
	frmsizecod := r.u(6)
	a.bsid = r.u(5)
	a.bsmod = r.u(3)
	a.acmod = r.u(3)
	if a.acmod&1 != 0 && a.acmod != 1 {
		r.u(2) // cmixlev
	}
	if a.acmod&4 != 0 {
		r.u(2) // surmixlev
	}
	if a.acmod == 2 {
		r.u(2) // dsurmod
	}
	a.lfeon = r.u(1)
	a.bitRateCode = frmsizecod >> 1
	switch {
	case r.eof:
		return a, fmt.Errorf("fmp4: ac-3: bsi: %w", io.ErrUnexpectedEOF)
	case a.fscod == 3, a.bsid > 10, a.bitRateCode > 18:
		return a, fmt.Errorf("fmp4: ac-3: fscod %d, bsid %d, frmsizecod %d: %w", a.fscod, a.bsid, frmsizecod, ErrInvalid)
	}
	return a, nil
}

// appendDac3 writes an AC3SpecificBox (ETSI TS 102 366 §F.4):
//
//	fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) bit_rate_code(5) reserved(5)
func appendDac3(dst []byte, a ac3Info) []byte {
	dst, at := StartBox(dst, typeDac3)
	w := bitWriter{dst: dst}
	w.put(2, a.fscod)
	w.put(5, a.bsid)
	w.put(3, a.bsmod)
	w.put(3, a.acmod)
	w.put(1, a.lfeon)
	w.put(5, a.bitRateCode)
	w.put(5, 0)
	EndBox(w.dst, at)
	return w.dst
}

// ec3Substream is one independent substream of an EC3SpecificBox.
type ec3Substream struct {
	fscod, bsid, acmod, lfeon int
	numDep, chanLoc           int
}

// ec3Info is what an EC3SpecificBox says (ETSI TS 102 366 §F.6).
type ec3Info struct {
	dataRate int // kbit/s
	subs     []ec3Substream
	samples  int // audio samples the frame codes (for a default duration)
	rate     int
}

// maxEC3Substreams is the number of independent substreams num_ind_sub can
// count (3 bits, plus one).
const maxEC3Substreams = 8

// parseEC3 walks the E-AC-3 syncframes of one sample, reading the start of
// each bsi (ATSC A/52 §E.2.2.2; ETSI TS 102 366 §E.1.2.2):
//
//	syncword(16)=0x0b77 strmtyp(2) substreamid(3) frmsiz(11)
//	fscod(2) [fscod2(2) if fscod is 3, else numblkscod(2)] acmod(3) lfeon(1)
//	bsid(5) dialnorm(5) compre(1) [compr(8)]
//	[dialnorm2(5) compre2(1) [compr2(8)] if acmod is 0]
//	[chanmape(1) [chanmap(16)] if strmtyp is 1]
//
// Independent substreams (strmtyp 0 and 2) are counted by substreamid, and
// each dependent one (strmtyp 1) adds to the independent one before it.
// bsmod is deep in the optional informational metadata and is written as 0
// (main audio service: complete main).
func parseEC3(frame []byte, subs []ec3Substream) (ec3Info, error) {
	info := ec3Info{subs: subs[:0]}
	bytes := 0
	for off := 0; off < len(frame); {
		r := bitReader{b: frame[off:]}
		if r.u(16) != 0x0b77 {
			if r.eof {
				return info, fmt.Errorf("fmp4: ec-3: syncframe at byte %d: %w", off, io.ErrUnexpectedEOF)
			}
			return info, fmt.Errorf("fmp4: ec-3: no syncword at byte %d: %w", off, ErrInvalid)
		}
		strmtyp := r.u(2)
		substreamid := r.u(3)
		size := (r.u(11) + 1) * 2
		var s ec3Substream
		s.fscod = r.u(2)
		blocks := 6
		rate := 0
		if s.fscod == 3 {
			fscod2 := r.u(2)
			if fscod2 == 3 {
				return info, fmt.Errorf("fmp4: ec-3: fscod2 3: %w", ErrInvalid)
			}
			rate = [3]int{24000, 22050, 16000}[fscod2]
		} else {
			blocks = [4]int{1, 2, 3, 6}[r.u(2)]
			rate = [3]int{48000, 44100, 32000}[s.fscod]
		}
		s.acmod = r.u(3)
		s.lfeon = r.u(1)
		s.bsid = r.u(5)
		r.u(5) // dialnorm
		if r.u(1) == 1 {
			r.u(8) // compr
		}
		if s.acmod == 0 {
			r.u(5) // dialnorm2
			if r.u(1) == 1 {
				r.u(8) // compr2
			}
		}
		chanmap := 0
		if strmtyp == 1 && r.u(1) == 1 {
			chanmap = r.u(16)
		}
		switch {
		case r.eof || size > len(frame)-off:
			return info, fmt.Errorf("fmp4: ec-3: syncframe of %d bytes at byte %d, %d left: %w", size, off, len(frame)-off, io.ErrUnexpectedEOF)
		case s.bsid <= 10:
			// An AC-3 syncframe inside an E-AC-3 stream: its header has another
			// layout, and mixing them is rare.
			return info, fmt.Errorf("fmp4: ec-3: AC-3 syncframe (bsid %d) in an E-AC-3 sample: %w", s.bsid, ErrUnsupported)
		case s.bsid > 16, strmtyp == 3:
			return info, fmt.Errorf("fmp4: ec-3: bsid %d, strmtyp %d: %w", s.bsid, strmtyp, ErrInvalid)
		}
		switch {
		case strmtyp != 1 && substreamid == len(info.subs):
			if len(info.subs) == maxEC3Substreams {
				return info, fmt.Errorf("fmp4: ec-3: more than %d independent substreams: %w", maxEC3Substreams, ErrInvalid)
			}
			info.subs = append(info.subs, s)
		case strmtyp != 1 && substreamid > len(info.subs):
			return info, fmt.Errorf("fmp4: ec-3: independent substream %d after %d: %w", substreamid, len(info.subs), ErrInvalid)
		case strmtyp == 1:
			if len(info.subs) == 0 {
				return info, fmt.Errorf("fmp4: ec-3: dependent substream before an independent one: %w", ErrInvalid)
			}
			p := &info.subs[len(info.subs)-1]
			if p.numDep == 15 {
				return info, fmt.Errorf("fmp4: ec-3: more than 15 dependent substreams: %w", ErrInvalid)
			}
			p.numDep++
			p.chanLoc |= chanLoc(chanmap)
		}
		if strmtyp != 1 && substreamid == 0 {
			info.samples += blocks * 256
			info.rate = rate
		}
		bytes += size
		off += size
	}
	if len(info.subs) == 0 {
		return info, fmt.Errorf("fmp4: ec-3: no independent substream 0: %w", ErrInvalid)
	}
	if info.samples > 0 {
		info.dataRate = int(min(int64(bytes)*8*int64(info.rate)/int64(info.samples)/1000, 1<<13-1))
	}
	return info, nil
}

// chanLoc maps the custom channel map of a dependent substream (ATSC A/52
// Table E.1.4, bit 15 first: L C R Ls Rs Lc/Rc Lrs/Rrs Cs Ts Lsd/Rsd Lw/Rw
// Vhl/Vhr Vhc Lts/Rts LFE2 LFE) to the chan_loc field of an EC3SpecificBox
// (ETSI TS 102 366 Table F.6.1, bit 8 first: Lc/Rc Lrs/Rrs Cs Ts Lsd/Rsd
// Lw/Rw Lvh/Rvh Cvh LFE2): the channels beyond those of the independent
// substream.
func chanLoc(chanmap int) int {
	return (chanmap>>3)&0xff<<1 | (chanmap>>1)&1
}

// appendDec3 writes an EC3SpecificBox (ETSI TS 102 366 §F.6):
//
//	data_rate(13) num_ind_sub(3)
//	per independent substream: fscod(2) bsid(5) reserved(1) asvc(1) bsmod(3)
//	  acmod(3) lfeon(1) reserved(3) num_dep_sub(4)
//	  [chan_loc(9) if num_dep_sub > 0, else reserved(1)]
func appendDec3(dst []byte, e ec3Info) []byte {
	dst, at := StartBox(dst, typeDec3)
	w := bitWriter{dst: dst}
	w.put(13, e.dataRate)
	w.put(3, len(e.subs)-1)
	for _, s := range e.subs {
		w.put(2, s.fscod)
		w.put(5, s.bsid)
		w.put(1, 0)
		w.put(1, 0) // asvc
		w.put(3, 0) // bsmod
		w.put(3, s.acmod)
		w.put(1, s.lfeon)
		w.put(3, 0)
		w.put(4, s.numDep)
		if s.numDep > 0 {
			w.put(9, s.chanLoc)
		} else {
			w.put(1, 0)
		}
	}
	EndBox(w.dst, at)
	return w.dst
}
