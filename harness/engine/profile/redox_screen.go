package profile

// What a Redox boot shows on the screen (profile.Stage.Screen, Response.Screen): kept in
// its own file so the serial table in redox.go stays as it is. Applied to Redox at init.
//
//   - The bootloader's mode menu. redox-os/bootloader src/main.rs:158 (b74f53a0)
//     println!("Arrow keys and enter select mode"); the BIOS loader prints only to VGA
//     (src/os/bios/macros.rs) and reads only the keyboard by INT 16h (src/os/bios/mod.rs),
//     so on BIOS the menu is seen on the screen and answered with Enter on the keyboard
//     (Enter keeps the selected mode, as "\r" does on the serial line under UEFI).
//   - Desktop images: Orbital's login screen, the graphical desktop up. redox-os/redox
//     config/desktop-minimal.toml:21 (81bc5bf1) starts "orbital orblogin launcher";
//     redox-os/orbutils orbutils/src/orblogin/main.rs:224,230 (44259c0f) draws "Username:"
//     and "Password:" labels (and a "Login" button) over the background. The serial console
//     never shows it: for variant "desktop" it is the boot's last stage.
const redoxModeMenu = "Arrow keys and enter select mode"

func init() {
	for i := range Redox.Stages {
		if Redox.Stages[i].Name == "bootloader" {
			Redox.Stages[i].Screen = append(Redox.Stages[i].Screen, ScreenMarker{Text: redoxModeMenu})
		}
	}
	Redox.Stages = append(Redox.Stages, Stage{Name: "desktop", Variants: []string{"desktop"},
		Screen: []ScreenMarker{{Text: "Username"}}})
	for i := range Redox.Responses {
		if Redox.Responses[i].On.Contains == redoxModeMenu {
			Redox.Responses[i].Screen = &ScreenMarker{Text: redoxModeMenu}
			Redox.Responses[i].Keys = []string{"ret"}
		}
	}
}
