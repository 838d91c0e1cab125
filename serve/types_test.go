package serve

import "testing"

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int{"4096": 4096, "16MiB": 16 << 20, "512K": 512 << 10, "512KiB": 512 << 10, "1G": 1 << 30, "2MB": 2 << 20, "-1": -1} {
		var b ByteSize
		if err := b.Set(in); err != nil || int(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "M", "12Q", "1.5M", "99999999999999999999G"} {
		var b ByteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}
