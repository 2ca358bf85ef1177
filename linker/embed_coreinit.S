/* Embeds the static coreinit binary into corec as read-only data. */
	.section .rodata
	.global core_coreinit_start
	.global core_coreinit_end
	.balign 16
core_coreinit_start:
	.incbin COREINIT_PATH
core_coreinit_end:
	.section .note.GNU-stack,"",@progbits
