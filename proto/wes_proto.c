/* PLACEHOLDER: the codec is being written (issue 4). */
#include "wes_proto.h"
