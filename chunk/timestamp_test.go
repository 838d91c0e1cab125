package chunk

import "testing"

func TestUnwrapper(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []uint32
		want []int64
	}{
		{"starts at its first timestamp", []uint32{1000, 1040, 1080}, []int64{1000, 1040, 1080}},
		// §4: "10000 comes after 4000000000, and 3000000000 comes before 4000000000".
		{"§4 10000 after 4000000000", []uint32{4000000000, 10000}, []int64{4000000000, 1<<32 + 10000}},
		{"§4 3000000000 before 4000000000", []uint32{4000000000, 3000000000}, []int64{4000000000, 3000000000}},
		{"wraps twice", []uint32{0xFFFFFF00, 0x100, 0x7FFFFFFF, 0xFFFFFFF0, 5}, []int64{0xFFFFFF00, 1<<32 + 0x100, 1<<32 + 0x7FFFFFFF, 1<<32 + 0xFFFFFFF0, 2<<32 + 5}},
		{"steps back below its start", []uint32{0, 0xFFFFFFFF, 3}, []int64{0, -1, 3}},
		{"a step of 2^31-1 is forward", []uint32{0, 0x7FFFFFFF}, []int64{0, 0x7FFFFFFF}},
		{"a step of exactly 2^31 is backward", []uint32{0x80000000, 0}, []int64{0x80000000, 0}},
		{"a step of 2^31 from 0 is backward", []uint32{0, 0x80000000}, []int64{0, -0x80000000}},
		{"repeats", []uint32{7, 7, 7}, []int64{7, 7, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u Unwrapper
			for i, ts := range tc.in {
				if got := u.Unwrap(ts); got != tc.want[i] {
					t.Fatalf("step %d: Unwrap(%#x) = %d, want %d", i, ts, got, tc.want[i])
				}
			}
			u.Reset()
			if got := u.Unwrap(42); got != 42 {
				t.Fatalf("after Reset: %d, want 42", got)
			}
		})
	}
}

// A stream of 2^26 ms steps runs across three wraps without a jump.
func TestUnwrapperLongRun(t *testing.T) {
	var u Unwrapper
	ts := uint32(0xFFFF0000)
	prev := u.Unwrap(ts)
	for i := 0; i < 3*(1<<32)/(1<<26); i++ {
		ts += 1 << 26
		got := u.Unwrap(ts)
		if got-prev != 1<<26 {
			t.Fatalf("step %d: %d after %d", i, got, prev)
		}
		prev = got
	}
	if prev < 3<<32 {
		t.Fatalf("ended at %d, want past 3 wraps", prev)
	}
}

func TestUnwrapperAllocs(t *testing.T) {
	var u Unwrapper
	ts := uint32(0)
	if n := testing.AllocsPerRun(100, func() { ts += 40; u.Unwrap(ts) }); n != 0 {
		t.Fatalf("Unwrap allocates %v times", n)
	}
}
