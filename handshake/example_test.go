package handshake_test

import (
	"crypto/rand"
	"fmt"
	"net"
	"time"

	"github.com/ertmp/rtmp/handshake"
)

// Example runs both sides over an in-memory connection. With the default
// configuration the client offers the digest handshake and the server
// answers in kind.
func Example() {
	clientConn, serverConn := net.Pipe()
	defer clientConn.Close()
	defer serverConn.Close()
	// The package has no timeouts of its own: bound the handshake with a
	// deadline on the connection.
	deadline := time.Now().Add(5 * time.Second)
	clientConn.SetDeadline(deadline)
	serverConn.SetDeadline(deadline)

	type outcome struct {
		res handshake.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := handshake.Server(serverConn, nil)
		if err != nil {
			serverConn.Close()
		}
		done <- outcome{res, err}
	}()

	cres, err := handshake.Client(clientConn, nil)
	if err != nil {
		fmt.Println("client:", err)
		return
	}
	srv := <-done
	if srv.err != nil {
		fmt.Println("server:", srv.err)
		return
	}
	fmt.Println("client:", cres.Kind, cres.Schema, "verified:", cres.Verified)
	fmt.Println("server:", srv.res.Kind, srv.res.Schema, "verified:", srv.res.Verified)
	fmt.Printf("server saw client version % x\n", srv.res.PeerVersion)
	// Output:
	// client: digest schema1 verified: true
	// server: digest schema1 verified: true
	// server saw client version 09 00 7c 02
}

// ExampleParseC1 builds a digest C1 and inspects it as a server would.
func ExampleParseC1() {
	var c1 [handshake.Size]byte
	if _, err := handshake.BuildC1(&c1, 0, handshake.DefaultClientVersion, handshake.Schema0, rand.Reader); err != nil {
		fmt.Println(err)
		return
	}
	ch, err := handshake.ParseC1(c1[:])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.Kind, ch.Schema)

	c1[4] = 0 // a zero version field marks a simple C1 (§5.2.3)
	c1[5], c1[6], c1[7] = 0, 0, 0
	ch, _ = handshake.ParseC1(c1[:])
	fmt.Println(ch.Kind)
	// Output:
	// digest schema0
	// simple
}
