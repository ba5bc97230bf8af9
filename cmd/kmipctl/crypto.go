package main

import (
	"context"
	"encoding/hex"

	"github.com/kmipd/kmipd/domain/kmip"
)

func init() {
	commands["encrypt"] = command{"encrypt -in (stdin) under key UID, to -out", runEncrypt}
	commands["decrypt"] = command{"decrypt -in (stdin) under key UID, to -out", runDecrypt}
	commands["sign"] = command{"sign -in with private key UID; the signature to -out", runSign}
	commands["verify"] = command{"verify a signature (-sig) over -in with public key UID; exit 2 when invalid", runVerify}
	commands["mac"] = command{"MAC -in under key UID; the MAC to -out", runMAC}
	commands["mac-verify"] = command{"verify a MAC (-mac) over -in under key UID; exit 2 when invalid", runMACVerify}
	commands["rng"] = command{"random bytes from the server's generator", runRNG}
}

// cryptoFlags are the flags of the data operations: the key, the files, and
// the Cryptographic Parameters.
type cryptoFlags struct {
	key, in, out                   string
	mode, padding, hash, alg, sign string
	iv, aad                        string
	tagLength                      int
}

func (f *cryptoFlags) register(c *connFlags, outHelp string) {
	c.fs.StringVar(&f.in, "in", "-", "input file (- for standard input)")
	c.fs.StringVar(&f.out, "out", "", outHelp+" (- for standard output; default: hex in the table)")
	c.fs.StringVar(&f.mode, "mode", "", "Block Cipher Mode (CBC, ECB, CTR, GCM, NISTKeyWrap, ...)")
	c.fs.StringVar(&f.padding, "padding", "", "Padding Method (PKCS5, None, OAEP, PSS, PKCS1_v1_5, ...)")
	c.fs.StringVar(&f.hash, "hash", "", "Hashing Algorithm (SHA_256, ...)")
	c.fs.StringVar(&f.alg, "alg", "", "Cryptographic Algorithm (for example HMAC_SHA256 for mac)")
	c.fs.StringVar(&f.sign, "sig-alg", "", "Digital Signature Algorithm (SHA256WithRSAEncryption, ECDSAWithSHA256, ...)")
	c.fs.StringVar(&f.iv, "iv", "", "IV, counter or nonce in hex (default: the server's, printed)")
	c.fs.StringVar(&f.aad, "aad", "", "Authenticated Encryption Additional Data in hex (GCM)")
	c.fs.IntVar(&f.tagLength, "tag-length", 0, "authentication tag length in bytes (GCM)")
}

// params is the Cryptographic Parameters structure of the flags; nil when
// no flag sets one.
func (f *cryptoFlags) params() (*kmip.Item, error) {
	p := kmip.Struct(kmip.TagCryptographicParameters)
	for _, x := range []struct {
		tag   kmip.Tag
		value string
	}{{kmip.TagBlockCipherMode, f.mode}, {kmip.TagPaddingMethod, f.padding}, {kmip.TagHashingAlgorithm, f.hash},
		{kmip.TagDigitalSignatureAlgorithm, f.sign}, {kmip.TagCryptographicAlgorithm, f.alg}} {
		if x.value == "" {
			continue
		}
		v, err := enumValue(x.tag, x.value)
		if err != nil {
			return nil, usageError("%v", err)
		}
		p.Add(kmip.Enum(x.tag, v))
	}
	if f.tagLength > 0 {
		p.Add(kmip.Int(kmip.TagTagLength, int32(f.tagLength)))
	}
	if len(p.Children()) == 0 {
		return nil, nil
	}
	return p, nil
}

// request builds the payload: key, parameters, data, and the optional IV
// and additional data.
func (f *cryptoFlags) request(c *connFlags, dataTag kmip.Tag, data []byte) ([]*kmip.Item, error) {
	payload := []*kmip.Item{uidItem(f.key)}
	p, err := f.params()
	if err != nil {
		return nil, err
	}
	if p != nil {
		payload = append(payload, p)
	}
	payload = append(payload, kmip.Bytes(dataTag, data))
	for _, x := range []struct {
		tag kmip.Tag
		hex string
	}{{kmip.TagIVCounterNonce, f.iv}, {kmip.TagAuthenticatedEncryptionAdditionalData, f.aad}} {
		if x.hex == "" {
			continue
		}
		b, err := parseHex(x.hex)
		if err != nil {
			return nil, usageError("%v", err)
		}
		payload = append(payload, kmip.Bytes(x.tag, b))
	}
	return payload, nil
}

// emit writes the answer's main bytes (tag main) to -out, or as hex in the
// table, and every other byte string of the answer as hex in the table (on
// standard error when the main bytes go to standard output).
func (f *cryptoFlags) emit(c *connFlags, out *kmip.Item, main kmip.Tag, label string) error {
	var r result
	b, _ := out.Child(main).AsBytes()
	if f.out != "" {
		if err := c.writeOutput(f.out, b); err != nil {
			return err
		}
	} else {
		r.add(label, hex.EncodeToString(b))
	}
	for _, k := range out.Children() {
		if k.Tag != main && k.Type == kmip.TypeByteString {
			r.add(k.Tag.SpecName(), format(k))
		}
	}
	if len(r.rows) == 0 {
		return nil
	}
	if f.out == "-" {
		return r.print(c.stderr, c.output)
	}
	return r.print(c.stdout, c.output)
}

// dataCommand runs an operation over the input file with the crypto flags.
func dataCommand(ctx context.Context, e *env, args []string, name, help string, op kmip.Operation,
	extra func(*connFlags, *cryptoFlags) func([]*kmip.Item) ([]*kmip.Item, error),
	finish func(*connFlags, *cryptoFlags, *kmip.Item) error) error {
	c := newFlags(e, name, "UID", help)
	var f cryptoFlags
	f.register(c, "file for the result")
	var more func([]*kmip.Item) ([]*kmip.Item, error)
	if extra != nil {
		more = extra(c, &f)
	}
	rest, err := c.parse(args, 1, 1)
	if err != nil {
		return err
	}
	f.key = rest[0]
	data, err := c.readInput(f.in)
	if err != nil {
		return err
	}
	payload, err := f.request(c, kmip.TagData, data)
	if err != nil {
		return err
	}
	if more != nil {
		if payload, err = more(payload); err != nil {
			return err
		}
	}
	out, err := c.call(ctx, op, payload...)
	if err != nil {
		return err
	}
	return finish(c, &f, out)
}

func runEncrypt(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "encrypt", "Encrypts -in under the key UID. The IV and any GCM tag the server returns are printed in hex.",
		kmip.OperationEncrypt, nil, func(c *connFlags, f *cryptoFlags, out *kmip.Item) error {
			return f.emit(c, out, kmip.TagData, "Data")
		})
}

func runDecrypt(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "decrypt", "Decrypts -in under the key UID with -iv (and -tag for GCM).",
		kmip.OperationDecrypt, func(c *connFlags, f *cryptoFlags) func([]*kmip.Item) ([]*kmip.Item, error) {
			tag := c.fs.String("tag", "", "GCM authentication tag in hex")
			return func(p []*kmip.Item) ([]*kmip.Item, error) {
				if *tag == "" {
					return p, nil
				}
				b, err := parseHex(*tag)
				if err != nil {
					return nil, usageError("-tag: %v", err)
				}
				return append(p, kmip.Bytes(kmip.TagAuthenticatedEncryptionTag, b)), nil
			}
		}, func(c *connFlags, f *cryptoFlags, out *kmip.Item) error {
			return f.emit(c, out, kmip.TagData, "Data")
		})
}

func runSign(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "sign", "Signs -in with the private key UID.",
		kmip.OperationSign, nil, func(c *connFlags, f *cryptoFlags, out *kmip.Item) error {
			return f.emit(c, out, kmip.TagSignatureData, "Signature Data")
		})
}

func runMAC(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "mac", "Computes the MAC of -in under the key UID.",
		kmip.OperationMAC, nil, func(c *connFlags, f *cryptoFlags, out *kmip.Item) error {
			return f.emit(c, out, kmip.TagMACData, "MAC Data")
		})
}

// proof adds the signature or MAC to check, from a file (-sig/-mac FILE) or
// hex (-sig-hex/-mac-hex).
func proof(flagName string, tag kmip.Tag) func(*connFlags, *cryptoFlags) func([]*kmip.Item) ([]*kmip.Item, error) {
	return func(c *connFlags, f *cryptoFlags) func([]*kmip.Item) ([]*kmip.Item, error) {
		file := c.fs.String(flagName, "", "file holding the "+flagName+" to check")
		hexv := c.fs.String(flagName+"-hex", "", "the "+flagName+" to check, in hex")
		return func(p []*kmip.Item) ([]*kmip.Item, error) {
			var b []byte
			var err error
			switch {
			case *file != "":
				b, err = c.readInput(*file)
			case *hexv != "":
				if b, err = parseHex(*hexv); err != nil {
					err = usageError("-%s-hex: %v", flagName, err)
				}
			default:
				err = usageError("-%s FILE or -%s-hex HEX is required", flagName, flagName)
			}
			if err != nil {
				return nil, err
			}
			return append(p, kmip.Bytes(tag, b)), nil
		}
	}
}

// verdict prints the Validity Indicator and fails with exit status 2 unless
// it is Valid.
func verdict(c *connFlags, out *kmip.Item) error {
	v, _ := out.Child(kmip.TagValidityIndicator).AsEnum()
	var r result
	r.add("Validity Indicator", format(out.Child(kmip.TagValidityIndicator)))
	if err := r.print(c.stdout, c.output); err != nil {
		return err
	}
	if kmip.ValidityIndicator(v) != kmip.ValidityIndicatorValid {
		return &statusError{code: exitInvalid}
	}
	return nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "verify", "Verifies a signature over -in with the public key UID; exit 2 when invalid.",
		kmip.OperationSignatureVerify, proof("sig", kmip.TagSignatureData),
		func(c *connFlags, _ *cryptoFlags, out *kmip.Item) error { return verdict(c, out) })
}

func runMACVerify(ctx context.Context, e *env, args []string) error {
	return dataCommand(ctx, e, args, "mac-verify", "Verifies a MAC over -in under the key UID; exit 2 when invalid.",
		kmip.OperationMACVerify, proof("mac", kmip.TagMACData),
		func(c *connFlags, _ *cryptoFlags, out *kmip.Item) error { return verdict(c, out) })
}

func runRNG(ctx context.Context, e *env, args []string) error {
	c := newFlags(e, "rng", "", "Prints random bytes from the server's generator (RNG Retrieve, KMIP 1.3+).")
	var n int
	var outFile string
	c.fs.IntVar(&n, "n", 32, "number of bytes")
	c.fs.StringVar(&outFile, "out", "", "file for the bytes (- for standard output; default: hex in the table)")
	if _, err := c.parse(args, 0, 0); err != nil {
		return err
	}
	if n <= 0 {
		return usageError("-n %d: want a positive number of bytes", n)
	}
	out, err := c.call(ctx, kmip.OperationRNGRetrieve, kmip.Int(kmip.TagDataLength, int32(n)))
	if err != nil {
		return err
	}
	f := cryptoFlags{out: outFile}
	return f.emit(c, out, kmip.TagData, "Data")
}
