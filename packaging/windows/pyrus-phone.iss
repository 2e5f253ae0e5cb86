; pyrus-phone for Windows: an Inno Setup 6 script for a per-user installer (no
; administrator rights needed). It installs the binary under %LOCALAPPDATA%\Programs,
; adds the Start menu entry, offers "Start when I log in", and registers pyrus-phone as a
; handler of tel:, callto: and sip: links for this user, offered in Settings > Default apps.
;
; Build on Windows, from the checkout:
;   cargo build --release --locked
;   iscc packaging\windows\pyrus-phone.iss
; gives target\windows\pyrus-phone-VERSION-setup.exe. For a whole machine (an
; administrator's rollout) run the installer with /ALLUSERS: the same entries then go under
; HKEY_LOCAL_MACHINE and Program Files. Defaults for every user go in
; %ProgramData%\pyrus-phone\settings.toml (packaging/README.md).
;
; The app's own "Start when I log in" setting writes and removes the same Run value
; ("pyrus-phone", the program with --minimized) as the task below.

#define AppName "pyrus-phone"
#define AppVersion "0.1.0"
#define AppExe "pyrus-phone.exe"
#define Root "..\.."

[Setup]
AppId={{4B1D2F0E-6C3A-4E8B-9D27-5F0A8C1E7B93}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=The pyrus-phone developers
AppComments=Registers softphone calls and their recordings in Pyrus
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\target\windows
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
; The running app holds its outbox open: ask it to close before files are replaced.
CloseApplications=yes
ChangesAssociations=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "ru"; MessagesFile: "compiler:Languages\Russian.isl"

[CustomMessages]
en.AutostartTask=Start when I log in (minimised)
ru.AutostartTask=Запускать при входе в систему (свёрнутым)
en.LinkName=Telephone link
ru.LinkName=Телефонная ссылка

[Tasks]
Name: "autostart"; Description: "{cm:AutostartTask}"

[Files]
Source: "{#Root}\target\release\{#AppExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#Root}\README.md"; DestDir: "{app}"; DestName: "README.md"; Flags: ignoreversion
Source: "{#Root}\packaging\README.md"; DestDir: "{app}"; DestName: "ADMIN.md"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Registers softphone calls in Pyrus"

[Registry]
; The link handler: one class for tel:, callto: and sip:, run with the link as its argument.
Root: HKA; Subkey: "Software\Classes\pyrus-phone.link"; ValueType: string; ValueName: ""; ValueData: "{cm:LinkName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\pyrus-phone.link"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\pyrus-phone.link\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\pyrus-phone.link\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; What Settings > Default apps offers: pyrus-phone for each scheme.
Root: HKA; Subkey: "Software\pyrus-phone\Capabilities"; ValueType: string; ValueName: "ApplicationName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\pyrus-phone\Capabilities"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "Registers softphone calls in Pyrus"
Root: HKA; Subkey: "Software\pyrus-phone\Capabilities\URLAssociations"; ValueType: string; ValueName: "tel"; ValueData: "pyrus-phone.link"
Root: HKA; Subkey: "Software\pyrus-phone\Capabilities\URLAssociations"; ValueType: string; ValueName: "callto"; ValueData: "pyrus-phone.link"
Root: HKA; Subkey: "Software\pyrus-phone\Capabilities\URLAssociations"; ValueType: string; ValueName: "sip"; ValueData: "pyrus-phone.link"
Root: HKA; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "{#AppName}"; ValueData: "Software\pyrus-phone\Capabilities"; Flags: uninsdeletevalue
; Schemes nobody handles yet go straight to pyrus-phone (an existing handler is kept: the
; user picks in Default apps).
Root: HKA; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Flags: createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Flags: createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Flags: createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\callto\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Flags: createvalueifdoesntexist
; "Start when I log in": the same value the app's setting writes.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "pyrus-phone"; ValueData: """{app}\{#AppExe}"" --minimized"; Tasks: autostart; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; The Run value may also have been written by the app's own setting.
Filename: "{sys}\reg.exe"; Parameters: "delete HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v pyrus-phone /f"; Flags: runhidden; RunOnceId: "RemoveAutostart"
