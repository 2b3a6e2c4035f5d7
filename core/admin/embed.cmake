# Turns a file into a C array (the console page is built into inletd, no files to install):
# cmake -DIN=<file> -DOUT=<file.c> -DNAME=<symbol> -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* generated from ${IN} by embed.cmake; do not edit */\n"
     "const unsigned char ${NAME}[] = {\n${bytes}0};\n"
     "const unsigned long ${NAME}_len = sizeof(${NAME}) - 1;\n")
