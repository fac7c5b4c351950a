#!/usr/bin/python3
"""Why opencv-doc's licenseplate_motion.jpg cannot be read: the measurements
quoted in docs/ai.md "Local provider: plates" and in the xfail reason of
tests/system/test_ai_providers.py, from the grey picture (ffmpeg, BT.601):
  - blur extent: the 10 %..90 % rise of the boot handle's lower edge
    (column x = 200, 5 columns averaged; a linear blur of length L rises over
    0.8 L);
  - what is left of the characters: along rows y = 250 and 262 across the
    plate (x 215..370), the plate background and the darkest dips.
Usage: bench/plate_blur.py
"""
import subprocess

PIC = "/usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg"
W, H = 600, 482


def grey():
    r = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", PIC, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                       capture_output=True, check=True)
    assert len(r.stdout) == W * H, "unexpected picture size"
    return r.stdout


def main():
    g = grey()
    col = [sum(g[y * W + 200 + k] for k in range(-2, 3)) / 5 for y in range(190, 250)]
    top = max(range(len(col)), key=lambda i: col[i])
    low = min(range(top, len(col)), key=lambda i: col[i])
    hi, lo = col[top], col[low]
    y90 = next(i for i in range(top, low + 1) if col[i] <= hi - 0.1 * (hi - lo))
    y10 = next(i for i in range(top, low + 1) if col[i] <= lo + 0.1 * (hi - lo))
    rise = y10 - y90
    print(f"boot handle edge at x=200: {hi:.0f} -> {lo:.0f} over y {190 + top}..{190 + low}; "
          f"10-90 % rise {rise} px -> linear blur length ~{rise / 0.8:.0f} px")
    for y in (250, 262):
        row = [sum(g[(y + k) * W + x] for k in range(-2, 3)) / 5 for x in range(215, 370)]
        bg = sorted(row)[-len(row) // 10]
        dips = [row[i] for i in range(1, len(row) - 1)
                if row[i] < row[i - 1] and row[i] <= row[i + 1] and row[i] < bg - 20]
        print(f"row y={y}: plate background ~{bg:.0f}, {len(dips)} dips, darkest "
              f"{min(dips):.0f}..{max(dips):.0f} (contrast {bg - max(dips):.0f}..{bg - min(dips):.0f} of 255)")


if __name__ == "__main__":
    main()
