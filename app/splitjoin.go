package app

import (
	"context"
	"math/big"

	"github.com/kmipd/kmipd/app/codec"
	"github.com/kmipd/kmipd/domain"
	"github.com/kmipd/kmipd/domain/keyformat"
	"github.com/kmipd/kmipd/domain/kmip"
	"github.com/kmipd/kmipd/ports"
)

// Split and join (KMIP 1.4 §4.38-4.39, §2.2.5): a key is shared among Split
// Key Parts objects so that any Split Key Threshold of them rebuild it. XOR
// needs every part; Polynomial Sharing GF(2^8) is Shamir's scheme byte by
// byte in the AES field (FIPS 197 §4), GF(2^16) the same on 16-bit pieces
// in the spec's quadratic extension of it; Polynomial Sharing Prime Field is
// Shamir's scheme over the integers modulo Prime Field Size. The share of
// part i is the polynomial's value at x = i (its Key Part Identifier).

// maxSplitParts bounds Split Key Parts: GF(2^8) has 255 non-zero points.
const maxSplitParts = 255

// maxPrimeFieldBits bounds Prime Field Size: the primality test's cost grows
// with the cube of the length (4096 bits: under a second of one core, 65536
// bits: minutes), and a 4096-bit field splits any key of up to 511 bytes.
const maxPrimeFieldBits = 4096

// maxSplitKeyBytes bounds the key Create Split Key splits and the parts
// Join Split Key joins: the work grows with key length times parts times
// threshold (512 bytes × 255 × 254 field multiplications: one to two
// seconds of one core) and the parts' size with key length times parts.
// 512 bytes holds any block or stream cipher key and 4096-bit HMAC keys,
// and matches maxPrimeFieldBits.
const maxSplitKeyBytes = 512

// checkPrimeField refuses a Prime Field Size that is not a prime of at most
// maxPrimeFieldBits bits; the length is checked before any arithmetic, and
// the request's deadline before and after the primality test.
func checkPrimeField(ctx context.Context, prime *big.Int) error {
	if prime == nil || prime.Sign() <= 0 {
		return invalidField("Polynomial Sharing Prime Field needs a prime Prime Field Size")
	}
	if prime.BitLen() > maxPrimeFieldBits {
		return invalidField("Prime Field Size has %d bits, more than the %d kmipd allows", prime.BitLen(), maxPrimeFieldBits)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	prime32 := prime.ProbablyPrime(32)
	if err := ctx.Err(); err != nil {
		return err
	}
	if !prime32 {
		return invalidField("Polynomial Sharing Prime Field needs a prime Prime Field Size")
	}
	return nil
}

// createSplitKey implements Create Split Key.
func (s *Service) createSplitKey(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	if t != kmip.ObjectTypeSplitKey {
		return nil, badObjectType("Create Split Key makes Split Key objects, not %s", t)
	}
	if c.payload.Child(kmip.TagKeyWrappingSpecification) != nil {
		// Splitting wraps nothing: a wrapping asked for is refused, not ignored.
		return nil, invalidField("Create Split Key does not wrap: a Key Wrapping Specification is not accepted")
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	sp, err := splitRequest(ctx, c)
	if err != nil {
		return nil, err
	}
	secret, block, err := s.splitSource(ctx, c, attrs)
	if err != nil {
		return nil, err
	}
	if err := sp.fits(secret); err != nil {
		return nil, err
	}
	shares, err := s.split(ctx, sp.method, secret, int(sp.parts), int(sp.threshold), sp.prime)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i, share := range shares {
		obj, err := s.newObject(ctx, c, kmip.ObjectTypeSplitKey, attrs)
		if err != nil {
			return nil, err
		}
		if s.cfg.StrictNames && sp.parts > 1 && obj.AttrOf(kmip.TagName) != nil {
			// Every part would carry the Name, and a Name identifies one object.
			return nil, nameTaken()
		}
		obj.Payload = sp.part(int32(i+1), share, block)
		if err := s.storeNew(ctx, c, obj); err != nil {
			return nil, err
		}
		ids = append(ids, obj.ID)
	}
	return codec.IDsResponse(ids), nil
}

// splitSpec is how a Create Split Key request splits its key.
type splitSpec struct {
	parts, threshold int32
	method           kmip.SplitKeyMethod
	prime            *big.Int // Prime Field Size, or nil
}

// splitRequest reads and checks a Create Split Key request's Split Key
// Parts, Threshold, Method and Prime Field Size.
func splitRequest(ctx context.Context, c *call) (splitSpec, error) {
	parts, okP := c.payload.Child(kmip.TagSplitKeyParts).AsInt()
	threshold, okT := c.payload.Child(kmip.TagSplitKeyThreshold).AsInt()
	mv, okM := c.payload.Child(kmip.TagSplitKeyMethod).AsEnum()
	switch {
	case !okP || !okT || !okM:
		return splitSpec{}, invalidField("Create Split Key needs Split Key Parts, Split Key Threshold and Split Key Method")
	case parts < 1 || parts > maxSplitParts || threshold < 1 || threshold > parts:
		return splitSpec{}, invalidField("Split Key Threshold must be between 1 and Split Key Parts (at most %d)", maxSplitParts)
	}
	sp := splitSpec{parts: parts, threshold: threshold, method: kmip.SplitKeyMethod(mv)}
	sp.prime, _ = c.payload.Child(kmip.TagPrimeFieldSize).AsBig()
	switch sp.method {
	case kmip.SplitKeyMethodXOR:
		if threshold != parts {
			return splitSpec{}, invalidField("XOR splitting needs every part: Split Key Threshold must equal Split Key Parts")
		}
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		if err := checkPrimeField(ctx, sp.prime); err != nil {
			return splitSpec{}, err
		}
	default:
		return splitSpec{}, errorf(kmip.ResultReasonFeatureNotSupported, "Split Key Method %s is not supported", sp.method)
	}
	return sp, nil
}

// fits refuses a secret the split cannot carry.
func (sp splitSpec) fits(secret []byte) error {
	if len(secret) > maxSplitKeyBytes {
		return valueTooLarge("the key has %d bytes; kmipd splits keys of at most %d", len(secret), maxSplitKeyBytes)
	}
	if sp.method == kmip.SplitKeyMethodPolynomialSharingGF2_16 && len(secret)%2 != 0 {
		return invalidField("Polynomial Sharing GF(2^16) splits keys of whole 16-bit pieces")
	}
	if sp.prime != nil && new(big.Int).SetBytes(secret).Cmp(sp.prime) >= 0 {
		return invalidField("Prime Field Size must exceed the key")
	}
	return nil
}

// part is the Split Key payload of part id, holding share and the split
// key's Cryptographic Algorithm and Length from block.
func (sp splitSpec) part(id int32, share []byte, block *kmip.Item) *kmip.Item {
	kb := kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, share)),
		block.Child(kmip.TagCryptographicAlgorithm).Clone(),
		block.Child(kmip.TagCryptographicLength).Clone())
	sk := kmip.Struct(kmip.TagSplitKey,
		kmip.Int(kmip.TagSplitKeyParts, sp.parts),
		kmip.Int(kmip.TagKeyPartIdentifier, id),
		kmip.Int(kmip.TagSplitKeyThreshold, sp.threshold),
		kmip.Enum(kmip.TagSplitKeyMethod, uint32(sp.method)))
	if sp.prime != nil {
		sk.Add(kmip.Big(kmip.TagPrimeFieldSize, sp.prime))
	}
	return sk.Add(kb)
}

// splitSource returns the key to split and a key block carrying its
// Cryptographic Algorithm and Length: the object the request names, or a
// new symmetric key made from the request's attributes (attrs).
func (s *Service) splitSource(ctx context.Context, c *call, attrs []domain.Attribute) ([]byte, *kmip.Item, error) {
	if len(c.payload.ChildrenOf(kmip.TagUniqueIdentifier)) > 0 {
		id, err := c.uid()
		if err != nil {
			return nil, nil, err
		}
		// Splitting hands out the key material: the policy's Get rule governs it.
		obj, err := s.loadAs(ctx, c, id, kmip.OperationGet)
		if err != nil {
			return nil, nil, err
		}
		// The shares are the key in the clear: Sensitive and non-Extractable
		// keys are not split.
		if err := checkRelease(obj, false); err != nil {
			return nil, nil, err
		}
		if obj, err = s.withKeyValue(ctx, obj); err != nil {
			return nil, nil, err
		}
		return rawKey(obj)
	}
	tmp, err := s.newObject(ctx, c, kmip.ObjectTypeSymmetricKey, attrs)
	if err != nil {
		return nil, nil, err
	}
	alg, okA := tmp.AttrOf(kmip.TagCryptographicAlgorithm).AsEnum()
	length, okL := tmp.AttrOf(kmip.TagCryptographicLength).AsInt()
	if !okA || !okL {
		return nil, nil, invalidField("without a key to split, Cryptographic Algorithm and Length are required")
	}
	mask, _ := tmp.AttrOf(kmip.TagCryptographicUsageMask).AsInt()
	key, err := s.cfg.Crypto.GenerateSymmetricKey(ctx, ports.SymmetricKeySpec{ID: tmp.ID, Algorithm: alg, Length: int(length), UsageMask: mask})
	if err != nil {
		return nil, nil, keygenError(err, kmip.CryptographicAlgorithm(alg), length)
	}
	if key.Ref != "" { // an HSM made it: read it out, and leave no key behind
		tmp.KeyRef = key.Ref
		k, ok := s.keeper()
		if !ok {
			return nil, nil, usableError(errNotKept)
		}
		h := ports.KeyHandle{ID: tmp.ID, ObjectType: tmp.Type, Algorithm: alg, Length: int(length), Ref: key.Ref}
		out, err := k.ExportKey(ctx, h)
		s.forgetKept(ctx, tmp)
		if err != nil {
			return nil, nil, err
		}
		key.Material = out.Material
	}
	return key.Material, kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagCryptographicAlgorithm, alg), kmip.Int(kmip.TagCryptographicLength, length)), nil
}

// rawKey returns the raw key material of a symmetric key or secret data.
func rawKey(obj *domain.Object) ([]byte, *kmip.Item, error) {
	t := kmip.ObjectType(obj.Type)
	if t != kmip.ObjectTypeSymmetricKey && t != kmip.ObjectTypeSecretData {
		return nil, nil, domain.ErrNotApplicable
	}
	if obj.Payload == nil {
		return nil, nil, errorf(kmip.ResultReasonItemNotFound, "object has been destroyed")
	}
	kb := obj.Payload.Child(kmip.TagKeyBlock)
	f, _ := kb.Child(kmip.TagKeyFormatType).AsEnum()
	if kmip.KeyFormatType(f) == kmip.KeyFormatTypeOpaque {
		b, ok := kb.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if ok {
			return b, kb, nil
		}
	}
	raw, err := keyformat.Convert(kb, kmip.KeyFormatTypeRaw, keyformat.Uncompressed)
	if err != nil {
		return nil, nil, invalidField("the key cannot be split: %v", err)
	}
	b, _ := raw.Path(kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
	return b, kb, nil
}

// split computes the shares of secret.
func (s *Service) split(ctx context.Context, method kmip.SplitKeyMethod, secret []byte, parts, threshold int, prime *big.Int) ([][]byte, error) {
	switch method {
	case kmip.SplitKeyMethodXOR:
		return s.splitXOR(ctx, secret, parts)
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
		return s.splitBinaryField(ctx, fields[method], secret, parts, threshold)
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		return s.splitPrimeField(ctx, secret, parts, threshold, prime)
	}
	return make([][]byte, parts), nil
}

// splitXOR makes parts shares that XOR to secret: all random but the last.
func (s *Service) splitXOR(ctx context.Context, secret []byte, parts int) ([][]byte, error) {
	shares := make([][]byte, parts)
	last := append([]byte(nil), secret...)
	for i := 0; i < parts-1; i++ {
		r, err := s.cfg.Crypto.RandomBytes(ctx, len(secret))
		if err != nil {
			return nil, err
		}
		shares[i] = r
		for j := range last {
			last[j] ^= r[j]
		}
	}
	shares[parts-1] = last
	return shares, nil
}

// splitBinaryField makes parts Shamir shares of secret over GF(2^8) or
// GF(2^16), piece by piece, any threshold of which recover it.
func (s *Service) splitBinaryField(ctx context.Context, f binaryField, secret []byte, parts, threshold int) ([][]byte, error) {
	shares := make([][]byte, parts)
	coef, err := s.cfg.Crypto.RandomBytes(ctx, len(secret)*(threshold-1))
	if err != nil {
		return nil, err
	}
	pieces := len(secret) / f.size
	for i := range shares {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := uint16(i + 1)
		share := make([]byte, len(secret))
		for j := 0; j < pieces; j++ {
			// Horner: f(x) = b + c1 x + ... + c(t-1) x^(t-1).
			var y uint16
			for k := threshold - 2; k >= 0; k-- {
				y = f.mul(y, x) ^ f.get(coef, j*(threshold-1)+k)
			}
			f.put(share, j, f.mul(y, x)^f.get(secret, j))
		}
		shares[i] = share
	}
	return shares, nil
}

// splitPrimeField makes parts Shamir shares of secret modulo prime, each
// as long as the prime, any threshold of which recover it.
func (s *Service) splitPrimeField(ctx context.Context, secret []byte, parts, threshold int, prime *big.Int) ([][]byte, error) {
	shares := make([][]byte, parts)
	size := (prime.BitLen() + 7) / 8
	coefs := make([]*big.Int, threshold-1)
	for k := range coefs {
		r, err := s.cfg.Crypto.RandomBytes(ctx, size+8)
		if err != nil {
			return nil, err
		}
		coefs[k] = new(big.Int).Mod(new(big.Int).SetBytes(r), prime)
	}
	s0 := new(big.Int).SetBytes(secret)
	for i := range shares {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := big.NewInt(int64(i + 1))
		y := new(big.Int)
		for k := len(coefs) - 1; k >= 0; k-- {
			y.Mul(y, x).Add(y, coefs[k]).Mod(y, prime)
		}
		y.Mul(y, x).Add(y, s0).Mod(y, prime)
		shares[i] = y.FillBytes(make([]byte, size))
	}
	return shares, nil
}

// joinSplitKey implements Join Split Key.
func (s *Service) joinSplitKey(ctx context.Context, c *call) (*kmip.Item, error) {
	t, err := objectType(c)
	if err != nil {
		return nil, err
	}
	if t != kmip.ObjectTypeSymmetricKey && t != kmip.ObjectTypeSecretData {
		return nil, badObjectType("Join Split Key cannot make %s objects", t)
	}
	attrs, err := s.requestedAttrs(ctx, c)
	if err != nil {
		return nil, err
	}
	parts, err := s.splitParts(ctx, c)
	if err != nil {
		return nil, err
	}
	secret, err := join(parts)
	if err != nil {
		return nil, err
	}
	obj, err := s.newObject(ctx, c, t, attrs)
	if err != nil {
		return nil, err
	}
	obj.Payload = joinedPayload(c, t, parts[0].Child(kmip.TagKeyBlock), secret)
	if err := s.storeNew(ctx, c, obj); err != nil {
		return nil, err
	}
	return codec.IDResponse(obj.ID), nil
}

// splitParts loads the Split Key payloads a Join Split Key names, at least
// one, each readable by the caller under the policy's Get rule.
func (s *Service) splitParts(ctx context.Context, c *call) ([]*kmip.Item, error) {
	ids := c.payload.ChildrenOf(kmip.TagUniqueIdentifier)
	if len(ids) == 0 {
		return nil, missingData("Join Split Key needs the Unique Identifiers of the parts")
	}
	var parts []*kmip.Item
	for _, it := range ids {
		id, ok := it.AsText()
		if !ok {
			return nil, invalidField("Unique Identifier must be a Text String")
		}
		// Joining reads the parts' key material: the policy's Get rule governs it.
		obj, err := s.loadAs(ctx, c, id, kmip.OperationGet)
		if err != nil {
			return nil, err
		}
		if kmip.ObjectType(obj.Type) != kmip.ObjectTypeSplitKey {
			return nil, domain.ErrNotApplicable
		}
		if obj.Payload == nil {
			return nil, errorf(kmip.ResultReasonItemNotFound, "split key %s has been destroyed", id)
		}
		parts = append(parts, obj.Payload)
	}
	return parts, nil
}

// joinedPayload is the object a join makes from secret: a Raw Symmetric
// Key with the parts' algorithm and length (from kb, the first part's key
// block), or Secret Data of the requested type (Seed when none).
func joinedPayload(c *call, t kmip.ObjectType, kb *kmip.Item, secret []byte) *kmip.Item {
	block := kmip.Struct(kmip.TagKeyBlock,
		kmip.Enum(kmip.TagKeyFormatType, uint32(kmip.KeyFormatTypeRaw)),
		kmip.Struct(kmip.TagKeyValue, kmip.Bytes(kmip.TagKeyMaterial, secret)))
	if t == kmip.ObjectTypeSymmetricKey {
		block.Add(kb.Child(kmip.TagCryptographicAlgorithm).Clone(), kb.Child(kmip.TagCryptographicLength).Clone())
		return kmip.Struct(kmip.TagSymmetricKey, block)
	}
	sdt := uint32(kmip.SecretDataTypeSeed)
	if v, ok := c.payload.Child(kmip.TagSecretDataType).AsEnum(); ok {
		sdt = v
	}
	return kmip.Struct(kmip.TagSecretData, kmip.Enum(kmip.TagSecretDataType, sdt), block)
}

// join rebuilds a secret from split key payloads; too few or inconsistent
// parts are a Cryptographic Failure (OASIS TC-SJ-1-14).
func join(parts []*kmip.Item) ([]byte, error) {
	sp, err := readSplitParts(parts)
	if err != nil {
		return nil, err
	}
	switch sp.method {
	case kmip.SplitKeyMethodXOR:
		return joinXOR(sp.ys), nil
	case kmip.SplitKeyMethodPolynomialSharingGF2_8, kmip.SplitKeyMethodPolynomialSharingGF2_16:
		return joinBinaryField(fields[sp.method], sp)
	case kmip.SplitKeyMethodPolynomialSharingPrimeField:
		return joinPrimeField(sp)
	}
	return nil, joinFailure("Split Key Method %s is not supported", sp.method)
}

// joinFailure is a Cryptographic Failure of Join Split Key.
func joinFailure(format string, args ...any) error {
	return errorf(kmip.ResultReasonCryptographicFailure, format, args...)
}

// splitParts are the parts of one split, checked to agree: the first
// threshold of xs (Key Part Identifiers) and ys (their key material)
// rebuild the secret.
type splitParts struct {
	method    kmip.SplitKeyMethod
	threshold int32
	prime     *big.Int // Prime Field Size, for the prime field method
	length    int32    // the first part's Cryptographic Length
	xs        []int32
	ys        [][]byte
}

// readSplitParts reads split key payloads that must be parts of one split,
// distinct, of one length and at least the threshold in number.
func readSplitParts(parts []*kmip.Item) (splitParts, error) {
	first := parts[0]
	n, _ := first.Child(kmip.TagSplitKeyParts).AsInt()
	threshold, _ := first.Child(kmip.TagSplitKeyThreshold).AsInt()
	mv, _ := first.Child(kmip.TagSplitKeyMethod).AsEnum()
	prime, _ := first.Child(kmip.TagPrimeFieldSize).AsBig()
	length, _ := first.Path(kmip.TagKeyBlock, kmip.TagCryptographicLength).AsInt()
	sp := splitParts{method: kmip.SplitKeyMethod(mv), threshold: threshold, prime: prime, length: length,
		xs: make([]int32, len(parts)), ys: make([][]byte, len(parts))}
	seen := map[int32]bool{}
	for i, p := range parts {
		pn, _ := p.Child(kmip.TagSplitKeyParts).AsInt()
		pt, _ := p.Child(kmip.TagSplitKeyThreshold).AsInt()
		pm, _ := p.Child(kmip.TagSplitKeyMethod).AsEnum()
		if pn != n || pt != threshold || pm != mv {
			return splitParts{}, joinFailure("the split keys are not parts of one split")
		}
		x, _ := p.Child(kmip.TagKeyPartIdentifier).AsInt()
		if seen[x] || x < 1 || x > maxSplitParts {
			return splitParts{}, joinFailure("Key Part Identifier %d is repeated or out of range", x)
		}
		seen[x] = true
		b, ok := p.Path(kmip.TagKeyBlock, kmip.TagKeyValue, kmip.TagKeyMaterial).AsBytes()
		if !ok || (i > 0 && len(b) != len(sp.ys[0])) || len(b) > maxSplitKeyBytes {
			return splitParts{}, joinFailure("the split keys hold no raw key material of one length")
		}
		sp.xs[i], sp.ys[i] = x, b
	}
	if threshold < 1 {
		return splitParts{}, joinFailure("Split Key Threshold %d is not positive", threshold)
	}
	if int32(len(parts)) < threshold {
		return splitParts{}, joinFailure("%d parts given, %d needed", len(parts), threshold)
	}
	return sp, nil
}

// joinXOR is the XOR of every part.
func joinXOR(ys [][]byte) []byte {
	out := make([]byte, len(ys[0]))
	for _, y := range ys {
		for j := range out {
			out[j] ^= y[j]
		}
	}
	return out
}

// joinBinaryField interpolates the parts at 0 in GF(2^8) or GF(2^16),
// element by element.
func joinBinaryField(f binaryField, sp splitParts) ([]byte, error) {
	xs, ys := sp.xs[:sp.threshold], sp.ys
	if len(ys[0])%f.size != 0 {
		return nil, joinFailure("the split keys are not whole field elements")
	}
	out := make([]byte, len(ys[0]))
	for i := range xs {
		// Lagrange basis at 0: prod x_m / (x_m - x_i); minus is XOR.
		xi := uint16(xs[i])
		li := uint16(1)
		for m := range xs {
			if m != i {
				xm := uint16(xs[m])
				li = f.mul(li, f.mul(xm, f.inv(xm^xi)))
			}
		}
		for j := 0; j < len(out)/f.size; j++ {
			f.put(out, j, f.get(out, j)^f.mul(li, f.get(ys[i], j)))
		}
	}
	return out, nil
}

// joinPrimeField interpolates the parts at 0 modulo the Prime Field Size;
// the secret has the bytes of the first part's Cryptographic Length.
func joinPrimeField(sp splitParts) ([]byte, error) {
	prime := sp.prime
	if prime == nil || prime.Sign() <= 0 || prime.BitLen() > maxPrimeFieldBits {
		return nil, joinFailure("the split keys lack a Prime Field Size of at most %d bits", maxPrimeFieldBits)
	}
	xs := sp.xs[:sp.threshold]
	sum := new(big.Int)
	for i := range xs {
		num, den := big.NewInt(1), big.NewInt(1)
		for m := range xs {
			if m != i {
				num.Mul(num, big.NewInt(int64(xs[m]))).Mod(num, prime)
				den.Mul(den, big.NewInt(int64(xs[m]-xs[i]))).Mod(den, prime)
			}
		}
		inv := new(big.Int).ModInverse(den, prime)
		if inv == nil {
			return nil, joinFailure("the parts do not interpolate")
		}
		term := new(big.Int).SetBytes(sp.ys[i])
		term.Mul(term, num).Mul(term, inv).Mod(term, prime)
		sum.Add(sum, term).Mod(sum, prime)
	}
	size := int(sp.length+7) / 8
	if size == 0 || sum.BitLen() > size*8 {
		size = (sum.BitLen() + 7) / 8
	}
	return sum.FillBytes(make([]byte, size)), nil
}

// binaryField is GF(2^8) or GF(2^16) as KMIP 1.4 §2.2.5 defines them; its
// elements are held in a uint16 and stored as size big-endian bytes.
type binaryField struct {
	size int
	mul  func(a, b uint16) uint16
	inv  func(a uint16) uint16
}

func (f binaryField) get(b []byte, i int) uint16 {
	if f.size == 1 {
		return uint16(b[i])
	}
	return uint16(b[2*i])<<8 | uint16(b[2*i+1])
}

func (f binaryField) put(b []byte, i int, v uint16) {
	if f.size == 1 {
		b[i] = byte(v)
		return
	}
	b[2*i], b[2*i+1] = byte(v>>8), byte(v)
}

var fields = map[kmip.SplitKeyMethod]binaryField{
	kmip.SplitKeyMethodPolynomialSharingGF2_8: {size: 1,
		mul: func(a, b uint16) uint16 { return uint16(gfMul(byte(a), byte(b))) },
		inv: func(a uint16) uint16 { return uint16(gfInv(byte(a))) }},
	kmip.SplitKeyMethodPolynomialSharingGF2_16: {size: 2, mul: gf16Mul, inv: gf16Inv},
}

// gf16M is m = x^5+x^4+x^3+x, the constant of GF(2^16) = GF(2^8)[y]/(y^2+y+m).
const gf16M = 0x3a

// gf16Mul multiplies uy+v elements (u the high byte): with y^2 = y + m,
// (ry+s)(uy+v) = ((r+s)(u+v) + sv) y + (m ru + sv).
func gf16Mul(a, b uint16) uint16 {
	r, s, u, v := byte(a>>8), byte(a), byte(b>>8), byte(b)
	sv := gfMul(s, v)
	hi := gfMul(r^s, u^v) ^ sv
	lo := gfMul(gf16M, gfMul(r, u)) ^ sv
	return uint16(hi)<<8 | uint16(lo)
}

// gf16Inv inverts uy+v: u d^-1 y + (u+v) d^-1 with d = (u+v)v + m u^2.
func gf16Inv(a uint16) uint16 {
	u, v := byte(a>>8), byte(a)
	d := gfMul(u^v, v) ^ gfMul(gf16M, gfMul(u, u))
	di := gfInv(d)
	return uint16(gfMul(u, di))<<8 | uint16(gfMul(u^v, di))
}

// gfMul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1 (FIPS 197 §4.2).
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// gfInv returns the multiplicative inverse in GF(2^8): a^254.
func gfInv(a byte) byte {
	r, p := byte(1), a
	for e := 254; e > 0; e >>= 1 {
		if e&1 != 0 {
			r = gfMul(r, p)
		}
		p = gfMul(p, p)
	}
	return r
}
