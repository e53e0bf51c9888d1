package leak

import (
	"bytes"
	"encoding/base64"
)

// Validators: a match counts only when the thing has the structure the
// real thing has (check digits, prefixes, lengths), which is what keeps
// order numbers, timestamps and ids from passing as cards or IBANs.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// isWord: part of an identifier-like token.
func isWord(c byte) bool { return isAlnum(c) || c == '_' }

// luhn reports whether the digits pass the Luhn check.
func luhn(d []byte) bool {
	sum, alt := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if alt {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		alt = !alt
	}
	return sum%10 == 0
}

// cardIIN reports whether digits have the length and issuer prefix of a
// payment card network (Visa, Mastercard, Amex, Discover, JCB, Diners,
// UnionPay, Maestro).
func cardIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	switch {
	// 13-digit Visa and 12- and 13-digit Maestro numbers are no longer
	// issued, and an EAN-13 or UPC-A product code passes Luhn one time in
	// ten: a German shop feed's GTINs (prefix 40-44) read as Visa cards.
	case d[0] == '4':
		return n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p2 == 65, p4/10 >= 644 && p4/10 <= 649:
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case p2 == 36 || p2 == 38 || (p4/10 >= 300 && p4/10 <= 305):
		return n == 14 || n == 16
	case p2 == 62:
		return n >= 16 && n <= 19
	case p2 == 50 || (p2 >= 56 && p2 <= 69):
		return n >= 14 && n <= 19
	}
	return false
}

// testCards are the card numbers payment providers publish for testing;
// they fill docs pages and are no leak.
var testCards = map[string]bool{
	"4242424242424242": true, "4000056655665556": true, "4111111111111111": true, "4012888888881881": true,
	"4000000000000002": true, "4000000000009995": true, "4000000000000077": true, "4000002500003155": true,
	"4000000000003220": true, "4000000000000341": true, "4000000000000127": true, "4000000000000069": true,
	"4000000000000119": true, "4000000000000101": true, "4222222222222": true, "4005519200000004": true,
	"4009348888881881": true, "4012000033330026": true, "4012000077777777": true, "4217651111111119": true,
	"4500600000000061": true, "4000000000000010": true, "4917610000000000": true, "4988080000000000": true,
	"5555555555554444": true, "2223003122003222": true, "5200828282828210": true, "5105105105105100": true,
	"5454545454545454": true, "5431111111111111": true, "2221000000000009": true, "5100000000000008": true,
	"378282246310005": true, "371449635398431": true, "378734493671000": true, "371111111111114": true,
	"6011111111111117": true, "6011000990139424": true, "6011981111111113": true, "6011000000000004": true,
	"3056930009020004": true, "36227206271667": true, "30569309025904": true, "38520000023237": true,
	"3566002020360505": true, "3530111333300000": true, "3566111111111113": true, "6200000000000005": true,
	"6205500000000000004": true, "6759649826438453": true, "6799990100000000019": true,
	// Stripe's 3-D Secure, radar and decline cards, Adyen's and Worldpay's
	"4000002760003184": true, "4000003800000446": true, "4000000000003063": true, "4000008400001629": true,
	"4000000000009235": true, "4000000000004954": true, "4100000000000019": true, "4000000000000259": true,
	"4000000000001976": true, "4000000000003055": true, "4000000000003097": true, "4000002500001001": true,
	"4000008260003178": true, "4000000760000002": true, "4000001240000000": true, "4000004840008001": true,
	"4000620000000007": true, "4000000000000093": true, "4000000000000036": true, "4000000000000044": true,
	"4000000000000051": true, "4000000000001091": true, "4000000000001000": true, "4001000360000005": true,
	"4000000000000416": true, "5200000000001096": true, "5200000000001005": true, "4111111145551142": true,
	"5555444433331111": true, "2222400070000005": true, "4988438843884305": true, "5577000055770004": true,
	"6771798021000008": true, "2223000048410010": true,
}

// ibanLen is the IBAN length per country (ISO 13616 registry, the
// countries most traffic carries).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
	"LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
	"NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
	"SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

// ibanExamples: the IBANs that standards, banks' docs and API specs use
// as examples.
var ibanExamples = map[string]bool{
	"DE89370400440532013000": true, "GB82WEST12345698765432": true, "GB29NWBK60161331926819": true,
	"FR1420041010050500013M02606": true, "NL91ABNA0417164300": true, "ES9121000418450200051332": true,
	"IT60X0542811101000000123456": true, "BE68539007547034": true, "CH9300762011623852957": true,
	"GB33BUKB20201555555555": true, "DE75512108001245126199": true, "NL02ABNA0123456789": true,
	"FR7630006000011234567890189": true, "GB94BARC10201530093459": true, "AT611904300234573201": true,
}

// ibanValid checks the country length and the mod-97 check digits of an
// IBAN given without spaces.
func ibanValid(s []byte) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if n, ok := ibanLen[string(s[:2])]; !ok || n != len(s) {
		return false
	}
	rem := 0
	add := func(c byte) {
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		}
	}
	for _, c := range s[4:] {
		if !isDigit(c) && !isUpper(c) {
			return false
		}
		add(c)
	}
	for _, c := range s[:4] {
		add(c)
	}
	return rem == 1
}

// ssnValid: a US social security number (AAA-GG-SSSS) the SSA could have
// issued, and not one of the famous published examples.
func ssnValid(area, group, serial []byte) bool {
	a := atoi(area)
	if a == 0 || a == 666 || a >= 900 || atoi(group) == 0 || atoi(serial) == 0 {
		return false
	}
	s := string(area) + string(group) + string(serial)
	// 078-05-1120 (the Woolworth wallet card), 219-09-9999 (the SSA's own
	// advertisement) and 457-55-5462 (MongoDB's field-level encryption
	// documentation) are the published examples.
	return s != "078051120" && s != "219099999" && s != "123456789" && s != "457555462"
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// ninoValid: a UK National Insurance number, AB123456C, with the prefix
// letters HMRC allows.
func ninoValid(b []byte) bool {
	if len(b) != 9 || !isUpper(b[0]) || !isUpper(b[1]) || !isUpper(b[8]) || b[8] > 'D' {
		return false
	}
	for _, c := range b[2:8] {
		if !isDigit(c) {
			return false
		}
	}
	bad1 := "DFIQUV"
	bad2 := "DFIOQUV"
	if bytes.IndexByte([]byte(bad1), b[0]) >= 0 || bytes.IndexByte([]byte(bad2), b[1]) >= 0 {
		return false
	}
	switch string(b[:2]) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	return true
}

// dniValid: a Spanish DNI (8 digits and the mod-23 check letter).
func dniValid(digits []byte, letter byte) bool {
	const letters = "TRWAGMYFPDXBNJZSQVHLCKE"
	return len(digits) == 8 && letters[atoi(digits)%23] == letter
}

// jwtHeader reports whether seg (the first part of a JWS compact token) is
// base64url JSON with an "alg" member, and whether the payload is the
// jwt.io example.
func jwtHeader(seg []byte) bool {
	if len(seg) > 400 {
		seg = seg[:400]
	}
	seg = seg[:len(seg)/4*4]
	var buf [300]byte
	n, err := base64.RawURLEncoding.Decode(buf[:], seg)
	if err != nil && n == 0 {
		return false
	}
	h := buf[:n]
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"alg"`))
}

// placeholder reports whether a secret-looking value is a documentation
// placeholder or already masked.
func placeholder(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	l := bytes.ToLower(v)
	for _, p := range []string{"example", "xxxx", "****", "redacted", "your_", "your-", "<", "${", "{{", "%s", "changeme",
		"placeholder", "dummy", "sample", "secret_here", "...", "null", "none", "undefined", "password", "hidden", "masked", "•",
		"secret", "whatever", "(", "[",
		// instructions in a template (replace-with-output-of-openssl-rand-hex-32),
		// as joined phrases only: a real password may contain "Replace9"
		"replace-with", "replace_with", "replace-me", "replace_me", "replaceme", "output-of", "output_of",
		"generate-one", "generate_one", "generate-with", "generate_with", "insert-your", "insert_your",
		"todo-", "todo_", "fixme", "fill-in", "fill_in", "enter-your", "enter_your", "put-your", "put_your",
		"setme", "set-me",
		// a reference to where the secret lives, not the secret
		"environ", "process.env", "getenv", "env[", "env(", "vault:", "secretkeyref", "valuefrom"} {
		if bytes.Contains(l, []byte(p)) {
			return true
		}
	}
	// $VAR, ${VAR}: a shell or template reference to the secret
	if v[0] == '$' && len(v) > 1 && (isUpper(v[1]) || v[1] == '_' || v[1] == '{') {
		return true
	}
	same := true
	for _, c := range v {
		if c != v[0] {
			same = false
			break
		}
	}
	return same || exampleWord(v) || sequenceRun(v)
}

// exampleWords are the passwords and secrets documentation uses for its
// examples (scott:tiger, guest:guest, user:pass, s3cr3t, p@ssword...), in
// their plain spelling; exampleWord also reads them in leetspeak and with a
// my/your/super prefix or a digit suffix. A value this common is no secret:
// if a service really used it, it would be an open door, not a leak.
var exampleWords = map[string]bool{
	"pass": true, "passwd": true, "password": true, "passphrase": true, "pwd": true, "pw": true, "secret": true,
	"secrets": true, "secretkey": true, "secretpassword": true, "tiger": true, "scott": true, "guest": true,
	"test": true, "testing": true, "tester": true, "xyz": true, "abc": true, "abcd": true, "abcdef": true,
	"foo": true, "bar": true, "baz": true, "foobar": true, "qux": true, "changeme": true, "changeit": true,
	"letmein": true, "hunter": true, "swordfish": true, "opensesame": true, "mypass": true, "pass-word": true,
	"key": true, "apikey": true, "token": true, "value": true, "string": true, "text": true, "demo": true,
	"userpass": true, "user": true, "username": true, "login": true,
}

// exampleWord: v is an exampleWords entry once a my/your/super/top/very
// prefix, digits or punctuation at the end, and leetspeak are undone.
func exampleWord(v []byte) bool {
	if len(v) > 24 {
		return false
	}
	w := bytes.ToLower(v)
	for len(w) > 0 && (isDigit(w[len(w)-1]) || w[len(w)-1] == '!' || w[len(w)-1] == '.') {
		w = w[:len(w)-1]
	}
	var buf [24]byte
	n := 0
	for _, c := range w {
		switch c {
		case '0':
			c = 'o'
		case '1':
			c = 'i'
		case '3':
			c = 'e'
		case '4', '@':
			c = 'a'
		case '5', '$':
			c = 's'
		case '7':
			c = 't'
		case '_', '-', ' ':
			continue
		}
		buf[n] = c
		n++
	}
	x := string(buf[:n])
	for _, p := range []string{"", "my", "your", "super", "top", "very", "some", "the", "a"} {
		if len(x) > len(p) && x[:len(p)] == p && exampleWords[x[len(p):]] {
			return true
		}
	}
	return false
}

// sequenceRun: six or more consecutive characters that count up or down
// (123456, abcdef, 987654) or repeat (000000), as filler values do
// ("ghp_1234567890abcdef…", "sk_live_000000…"). In a random 40-character
// token such a run has a chance of about 1 in 10^8.
func sequenceRun(v []byte) bool {
	up, down, same := 1, 1, 1
	for i := 1; i < len(v); i++ {
		a, c := v[i-1], v[i]
		if !isAlnum(a) || !isAlnum(c) {
			up, down, same = 1, 1, 1
			continue
		}
		if c == a+1 {
			up++
		} else {
			up = 1
		}
		if c+1 == a {
			down++
		} else {
			down = 1
		}
		if c == a {
			same++
		} else {
			same = 1
		}
		if up >= 6 || down >= 6 || same >= 6 {
			return true
		}
	}
	return false
}
