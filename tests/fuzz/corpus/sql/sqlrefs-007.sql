table users
