package serve

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// embeddedNATS starts a NATS server with JetStream on a loopback port.
func embeddedNATS(t *testing.T) string {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// clusterNode runs a server of the cluster on natsURL.
func clusterNode(t *testing.T, natsURL string) *running {
	port := freePort(t)
	return start(t, testConfig(t, "listen: 127.0.0.1:"+port+"\ndrain: {timeout: 0s}\ncluster:\n  nats: ["+natsURL+
		"]\n  advertise: rtmp://127.0.0.1:"+port+"\n  ttl: 2s\n  idle: 1s\n"), Options{})
}

type clusterJSON struct {
	Node     string `json:"node"`
	Registry string `json:"registry"`
	Nodes    []struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	} `json:"nodes"`
	Streams []struct {
		App  string `json:"app"`
		Name string `json:"name"`
		Node string `json:"node"`
	} `json:"streams"`
	Pulls []struct {
		Node    string `json:"node"`
		Viewers int    `json:"viewers"`
	} `json:"pulls"`
}

func clusterView(t *testing.T, r *running) clusterJSON {
	code, body := httpGet(t, "http://"+r.HTTPAddr().String()+"/v1/cluster", "")
	if code != 200 {
		t.Fatalf("/v1/cluster: %d %s", code, body)
	}
	var v clusterJSON
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Two servers with a cluster: section: a stream published on A plays on
// B, /v1/cluster shows who holds what and B's pull; draining A sends its
// publisher to B, in its app.
func TestClusterServe(t *testing.T) {
	nurl := embeddedNATS(t)
	a, b := clusterNode(t, nurl), clusterNode(t, nurl)
	idA, idB := a.Addr().String(), b.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, a.url("live/cam"), &rtmp.ClientConfig{Capabilities: &rtmp.Capabilities{CapsEx: message.CapsExReconnect}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	stop := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Payload: []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f}})
		for n := uint32(0); ; n++ {
			v := binary.BigEndian.AppendUint32([]byte{0x27, 1, 0, 0, 0}, n)
			if n%10 == 0 {
				v[0] = 0x17
			}
			if err := pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: n * 40, Payload: v}); err != nil {
				sent <- err
				return
			}
			select {
			case <-stop:
				sent <- nil
				return
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()
	defer func() {
		if stop != nil {
			close(stop)
			<-sent
		}
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		v := clusterView(t, b)
		if v.Registry == "ready" && len(v.Nodes) == 2 && len(v.Streams) == 1 && v.Streams[0].Node == idA {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's view: %+v", v)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pl, err := rtmp.DialPlay(ctx, b.url("live/cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	for n := 0; n < 20; {
		pk, err := pl.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if pk.Type == message.TypeVideo {
			n++
		}
	}
	if v := clusterView(t, b); len(v.Pulls) != 1 || v.Pulls[0].Node != idA || v.Pulls[0].Viewers != 1 {
		t.Errorf("B's pulls: %+v", v.Pulls)
	}

	type drained struct {
		asked int
		err   error
	}
	dr := make(chan drained, 1)
	go func() {
		n, err := a.Drain(ctx)
		dr <- drained{n, err}
	}()
	for {
		ev, err := pub.ReadEvent(ctx)
		if err != nil {
			t.Fatalf("no reconnect request: %v", err)
		}
		if ev.Kind == rtmp.EventReconnectRequest {
			if got := ev.Reconnect.String(); got != "rtmp://"+idB+"/live/cam" {
				t.Fatalf("sent to %s, want B in app live", got)
			}
			break
		}
	}
	if v := clusterView(t, b); !strings.Contains(strings.Join(nodeIDs(v), ","), idA) {
		t.Errorf("A left the view while draining: %+v", v.Nodes)
	}
	close(stop)
	<-sent
	stop = nil
	pub.Close()
	if d := <-dr; d.asked != 1 || d.err != nil {
		t.Fatalf("Drain: asked %d, %v; want 1 that left", d.asked, d.err)
	}
}

func nodeIDs(v clusterJSON) []string {
	var out []string
	for _, n := range v.Nodes {
		out = append(out, n.ID)
	}
	return out
}
