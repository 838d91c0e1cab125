package chunk

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"
)

// limitBudget grants what fits under its limit.
type limitBudget struct {
	limit   int64
	used    atomic.Int64
	refused atomic.Int64
}

func (b *limitBudget) Reserve(n int) bool {
	if b.used.Add(int64(n)) > b.limit {
		b.used.Add(-int64(n))
		b.refused.Add(1)
		return false
	}
	return true
}
func (b *limitBudget) Charge(n int)  { b.used.Add(int64(n)) }
func (b *limitBudget) Release(n int) { b.used.Add(-int64(n)) }

// A message whose buffer the shared budget refuses fails with ErrBudget
// once its first SmallAlloc bytes arrived, and no more than those are
// allocated; small messages on another Reader of the same budget go on.
// Everything charged goes back: detached payloads at Detach, the rest at
// ReleaseBudget.
func TestReaderBudget(t *testing.T) {
	b := &limitBudget{limit: 1 << 20}
	big := pay(4<<20, 1)
	wire, _ := Encode(nil, msg(4, 0, 9, 1, big), 1<<20)
	r := NewReader(bytes.NewReader(wire), &ReaderConfig{Budget: b})
	r.SetChunkSize(1 << 20)
	_, err := r.ReadMessage()
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("4 MiB message with 1 MiB of budget: err %v, want ErrBudget", err)
	}
	if b.refused.Load() != 1 || b.used.Load() != SmallAlloc || r.held != SmallAlloc {
		t.Fatalf("refused %d, used %d, held %d; want 1 refusal and %d held", b.refused.Load(), b.used.Load(), r.held, SmallAlloc)
	}

	// Another connection's small media and a 512 KiB message fit.
	var wire2 []byte
	for i := range 50 {
		wire2, _ = Encode(wire2, msg(6, uint32(i), 8, 1, pay(2000, byte(i))), 4096)
	}
	wire2, _ = Encode(wire2, msg(7, 0, 9, 1, pay(512<<10, 9)), 4096)
	r2 := NewReader(bytes.NewReader(wire2), &ReaderConfig{Budget: b})
	r2.SetChunkSize(4096)
	var kept [][]byte
	for {
		m, err := r2.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("small messages: %v", err)
		}
		if m.TypeID == 9 {
			kept = append(kept, r2.Detach())
		}
	}
	if len(kept) != 1 || len(kept[0]) != 512<<10 {
		t.Fatalf("the 512 KiB message: %d kept", len(kept))
	}
	if used, held := b.used.Load(), int64(r.held+r2.held); used != held {
		t.Fatalf("budget used %d, readers hold %d", used, held)
	}
	r.ReleaseBudget()
	r2.ReleaseBudget()
	if u := b.used.Load(); u != 0 {
		t.Fatalf("budget used %d after both readers let go", u)
	}
	if _, err := r2.ReadMessage(); err == nil {
		t.Fatal("a released reader read on")
	}
}
