; Inno Setup script of the b24explorer installer (Inno Setup 6).
;   iscc /DAppVersion=0.1.0 packaging\windows\b24explorer.iss
; Packs the one-folder build in dist\b24explorer (packaging\build.py makes it) into
; dist\b24explorer-<version>-windows-x64-setup.exe: per-user install by default (no admin rights needed; an
; all-users install can be chosen in the wizard), Start-menu entry, optional desktop icon, uninstaller.
; Uninstalling removes the program only: settings, history and the keyring entries stay the user's.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "b24explorer"
#define AppExe "b24explorer.exe"
#define BuildDir "..\..\dist\b24explorer"

[Setup]
AppId={{805BF8F3-0846-4A58-9AD5-618617A28073}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=b24explorer developers
AppComments=Desktop explorer for the Bitrix24 REST API
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\b24explorer.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
VersionInfoVersion={#AppVersion}
VersionInfoDescription={#AppName} installer
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "russian"; MessagesFile: "compiler:Languages\Russian.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Bitrix24 REST explorer"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
