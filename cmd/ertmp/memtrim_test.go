package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

func heapFree() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// After a burst, the free heap memory goes back to the OS at once; with
// little free, nothing is done.
func TestTrimMemory(t *testing.T) {
	// The runtime may give part of a burst back by itself while the heap
	// grows (after other tests' heaps): a few tries leave one free.
	var before uint64
	for range 5 {
		burst := make([][]byte, 256)
		for i := range burst {
			burst[i] = make([]byte, 256<<10)
			burst[i][0] = byte(i)
		}
		runtime.KeepAlive(burst)
		burst = nil
		runtime.GC()
		runtime.GC() // swept: the 64 MiB are free
		if before = heapFree(); before >= 32<<20 {
			break
		}
	}
	free, trimmed := trimMemory()
	after := heapFree()
	t.Logf("free heap: %d MiB before, %d MiB after", before>>20, after>>20)
	if before < 32<<20 {
		t.Fatalf("only %d MiB free after a 64 MiB burst", before>>20)
	}
	if !trimmed || free < 32<<20 {
		t.Fatalf("trimMemory with %d MiB free: %d, %v", before>>20, free, trimmed)
	}
	if after >= trimFloor {
		t.Fatalf("%d MiB still free after trimMemory", after>>20)
	}
	if free, trimmed := trimMemory(); trimmed {
		t.Fatalf("trimMemory trimmed again with %d bytes free", free)
	}
}
