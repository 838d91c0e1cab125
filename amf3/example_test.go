package amf3_test

import (
	"fmt"

	"github.com/ertmp/rtmp/amf3"
)

func Example() {
	// An anonymous dynamic object {app: "live", objectEncoding: 3}.
	wire := []byte{
		0x0A, 0x0B, 0x01, // object, inline dynamic traits, class ""
		0x07, 'a', 'p', 'p', 0x06, 0x09, 'l', 'i', 'v', 'e',
		0x1D, 'o', 'b', 'j', 'e', 'c', 't', 'E', 'n', 'c', 'o', 'd', 'i', 'n', 'g', 0x04, 0x03,
		0x01, // end of dynamic members
	}
	v, n, err := amf3.Decode(wire)
	if err != nil {
		panic(err)
	}
	o := v.(*amf3.Object)
	app, _ := o.Get("app")
	enc, _ := o.Get("objectEncoding")
	fmt.Println(n, app, enc)

	// Encoding the decoded value gives the same bytes back.
	out, _ := amf3.Append(nil, v)
	fmt.Println(string(out) == string(wire))
	// Output:
	// 31 live 3
	// true
}

func ExampleAppend() {
	point := &amf3.Traits{ClassName: "Point", Members: []string{"x", "y"}}
	v := []amf3.Value{
		&amf3.Object{Traits: point, Sealed: []amf3.Value{int32(1), int32(2)}},
		&amf3.Object{Traits: point, Sealed: []amf3.Value{int32(3), int32(4)}},
		"Point", // a string reference: the class name is in the string table
	}
	b, err := amf3.Append(nil, v)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)
	// Output:
	// 09 07 01 0a 23 0b 50 6f 69 6e 74 03 78 03 79 04 01 04 02 0a 01 04 03 04 04 06 00
}

func ExampleDecoder_RegisterExternalizable() {
	var d amf3.Decoder
	d.RegisterExternalizable(amf3.ClassArrayCollection, amf3.ValueHandler{})

	wire := append([]byte{0x0A, 0x07, 0x43}, amf3.ClassArrayCollection...)
	wire = append(wire, 0x09, 0x05, 0x01, 0x04, 0x01, 0x04, 0x02) // [1, 2]
	v, _, err := d.Decode(wire)
	if err != nil {
		panic(err)
	}
	o := v.(*amf3.Object)
	fmt.Println(o.ClassName(), o.External.(*amf3.Array).Dense)

	// Without a handler the body cannot be read.
	_, _, err = amf3.Decode(wire)
	fmt.Println(err)
	// Output:
	// flex.messaging.io.ArrayCollection [1 2]
	// amf3: offset 36: externalizable class "flex.messaging.io.ArrayCollection" has no handler
}
